import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { MAX_EVENTS_PER_BATCH } from "../../src/engine/events.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { fraud, inquiry, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

describe("event intake (group commit)", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  const clock = manualClock(T0);

  beforeEach(async () => {
    clock.set(T0 + 400 * DAY);
    headroom = await sqliteTarget.open(clock.now);
  });
  afterEach(async () => {
    await headroom.dispose();
  });

  const decisionCount = async () =>
    Number(
      (
        await headroom.store.db
          .selectFrom("decisions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("gives each concurrent batch the result it would get alone, after the ones before it", async () => {
    const batches: CreditEvent[][] = [
      [opened("a1", T0), opened("a2", T0)],
      [inquiry("a1", "q1", T0 + DAY), fraud("a2", "f1", T0 + DAY)],
      // q1 repeats: the first batch of the group that carried it accepted it.
      [inquiry("a1", "q1", T0 + DAY), inquiry("a1", "q2", T0 + 2 * DAY)],
      [inquiry("zz", "q9", T0 + DAY)],
    ];
    const results = await Promise.all(batches.map((b) => headroom.intake.submit(b)));
    const alone = await sqliteTarget.open(clock.now);
    const sequential = [];
    for (const b of batches) sequential.push(await ingestEvents(alone, b));
    await alone.dispose();
    expect(results).toEqual(sequential);
    expect(results[2]?.results[0]).toEqual({ id: "q1", status: "duplicate" });
    expect(results[3]?.rejected).toBe(1);
    const decided = results.reduce((n, r) => n + r.decisions, 0);
    expect(decided).toBeGreaterThan(0);
    expect(await decisionCount()).toBe(decided);

    const replays = await Promise.all(batches.map((b) => headroom.intake.submit(b)));
    expect(replays.slice(0, 3).every((r) => r.duplicates === r.results.length)).toBe(true);
    expect(await decisionCount()).toBe(decided);
    expect((await verifyLedger(headroom.store)).ok).toBe(true);
  });

  it("fails only the batch at fault when batches commit together", async () => {
    const tooLong = Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, i) =>
      inquiry("a1", `x${i}`, T0 + DAY),
    );
    const [good, bad, later] = await Promise.allSettled([
      headroom.intake.submit([opened("a1", T0)]),
      headroom.intake.submit(tooLong),
      headroom.intake.submit([fraud("a1", "f1", T0 + DAY)]),
    ]);
    expect(good.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");
    expect(later).toMatchObject({ status: "fulfilled", value: { accepted: 1, decisions: 1 } });
  });

  it("commits batches that arrive together in one transaction", async () => {
    let tick = T0 + 400 * DAY;
    const ticking = await sqliteTarget.open(() => tick++);
    try {
      await ingestEvents(ticking, [opened("a1", T0)]);
      const results = await Promise.all([
        ticking.intake.submit([inquiry("a1", "q1", T0 + DAY)]),
        ticking.intake.submit([inquiry("a1", "q2", T0 + 2 * DAY)]),
        ticking.intake.submit([inquiry("a1", "q3", T0 + 3 * DAY)]),
      ]);
      expect(results.map((r) => r.accepted)).toEqual([1, 1, 1]);
      const rows = await ticking.store.db
        .selectFrom("events")
        .select(["event_id", "recorded_at"])
        .where("event_id", "in", ["q1", "q2", "q3"])
        .orderBy("event_id")
        .execute();
      // Each transaction reads the clock once: one reading for the three means one transaction.
      const [q1, q2, q3] = rows.map((r) => r.recorded_at);
      expect(q1).toBe(q2);
      expect(q2).toBe(q3);
      await ticking.intake.submit([inquiry("a1", "q4", T0 + 4 * DAY)]);
      const q4 = await ticking.store.db
        .selectFrom("events")
        .select("recorded_at")
        .where("event_id", "=", "q4")
        .executeTakeFirstOrThrow();
      expect(q4.recorded_at).toBeGreaterThan(q1 as number);
    } finally {
      await ticking.dispose();
    }
  });
});
