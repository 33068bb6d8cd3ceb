import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DecisionInput } from "../../src/engine/decide.ts";
import { decide } from "../../src/engine/decide.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { seededRandom } from "../../src/engine/random.ts";
import { linesAsOf } from "../../src/services/asOfBook.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { decisionInput } from "../../src/services/lineBook.ts";
import { isRateDecision } from "../../src/services/rateChanges.ts";
import { drawdown, due, inquiry, lenderOpened, opened, repaid } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

/**
 * A varied history per account: drawdowns, monthly dues paid on time, late or never, bureau
 * inquiries and new lenders (a seeded random walk, so failures repeat).
 */
function histories(accounts: number, seed: number): CreditEvent[] {
  const rng = seededRandom(seed);
  const random = () => rng.next();
  const events: CreditEvent[] = [];
  for (let a = 0; a < accounts; a++) {
    const id = `r${String(a).padStart(2, "0")}`;
    // Each kind of event has its own second of the day, so no two events of an account share an instant.
    const at = (day: number, kind = 0) => T0 + day * DAY + a * 60_000 + kind * 1000;
    events.push(opened(id, at(0), { borrowerId: `rb${a}`, declaredMonthlyIncome: 800_000 + a * 50_000 }));
    events.push(drawdown(id, `${id}-d`, at(1), 300_000 + a * 20_000));
    for (let m = 0; m < 7; m++) {
      const dueDay = 30 * m + 20;
      events.push(due(id, `${id}-u${m}`, at(30 * m + 2), at(dueDay), 40_000));
      const r = random();
      if (r < 0.55) events.push(repaid(id, `${id}-p${m}`, at(dueDay - 1, 3), 40_000, `${id}-u${m}-due`));
      else if (r < 0.85)
        events.push(repaid(id, `${id}-p${m}`, at(dueDay + 5 + Math.floor(random() * 40), 3), 40_000));
      if (random() < 0.3) events.push(inquiry(id, `${id}-q${m}`, at(30 * m + 7, 1)));
      if (random() < 0.15) events.push(lenderOpened(id, `${id}-l${m}`, at(30 * m + 11, 2), `lender-${m}`));
    }
  }
  return events.sort((x, y) => Date.parse(x.occurredAt) - Date.parse(y.occurredAt));
}

for (const { target, skip } of await storeTargets("the as-of replay suite")) {
  describe.skipIf(skip)(`as-of replay on ${target.name}`, () => {
    const clock = manualClock(T0);
    let headroom: Headroom & { dispose(): Promise<void> };
    beforeEach(async () => {
      clock.set(T0);
      headroom = await target.open(clock.now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("rebuilds, from the event log alone, the very input of every decision made then, and decides it the same way", async () => {
      for (const event of histories(12, 7)) {
        clock.set(Date.parse(event.occurredAt));
        await applyDueActions(headroom);
        await ingestEvents(headroom, [event]);
      }
      const end = clock.now();
      const decisions = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("trigger_kind", "=", "event")
        .orderBy("decided_at")
        .execute();
      // The histories must exercise cuts, freezes and reopenings, not only quiet accounts.
      const actions = new Set(decisions.map((d) => d.action));
      expect(actions).toContain("freeze");
      expect([...actions].filter((a) => a !== "none").length).toBeGreaterThanOrEqual(3);
      // ... and decisions taken while a noticed cut was still pending, and after changes took effect.
      const inputs = decisions.map((d) => JSON.parse(d.input) as DecisionInput);
      expect(inputs.some((i) => i.line.pendingAction !== null)).toBe(true);
      expect(inputs.some((i) => i.line.lastChangeAt !== null)).toBe(true);

      for (const d of decisions) {
        const stored = JSON.parse(d.input) as DecisionInput;
        const replayed = (await linesAsOf(headroom.store, [d.account_id], d.decided_at, end)).get(
          d.account_id,
        );
        if (replayed === undefined) throw new Error(`${d.account_id} was not rebuilt`);
        const input = decisionInput(replayed.line, stored.trigger, d.decided_at);
        expect(input, `${d.id} ${d.action} at ${new Date(d.decided_at).toISOString()}`).toEqual(stored);
        // A rate decision keeps the same input; its output is the repricing beside the limit decision.
        if (!isRateDecision(d))
          expect(decide(input, headroom.engine, d.decided_at)).toEqual(JSON.parse(d.output));
      }
    });
  });
}
