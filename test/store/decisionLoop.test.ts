import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { decodeFeatureState } from "../../src/engine/featureStateCodec.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { REVIEW_CHUNK, runReview } from "../../src/services/review.ts";
import { eastLimitBudget } from "../support/budgets.ts";
import { drawdown, due, fraud, inquiry, lenderOpened, opened, repaid } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

const targets = await storeTargets("the store suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`decision loop on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(T0);

    beforeEach(async () => {
      clock.set(T0 + 400 * DAY);
      headroom = await target.open(clock.now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const count = async (table: "events" | "decisions" | "outbox" | "ledger" | "line_changes") =>
      Number(
        (
          await headroom.store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const line = (accountId: string) =>
      headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .where("account_id", "=", accountId)
        .executeTakeFirstOrThrow();
    const decisionsOf = (accountId: string) =>
      headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("decided_at")
        .execute();

    it("accepts a batch once: a replay changes nothing and says duplicate per event", async () => {
      const batch: CreditEvent[] = [
        opened("a1", T0),
        inquiry("a1", "q1", T0 + DAY),
        inquiry("a1", "q2", T0 + 2 * DAY),
      ];
      const first = await ingestEvents(headroom, batch);
      expect(first.results.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
      expect(first.decisions).toBe(2);
      const before = {
        events: await count("events"),
        decisions: await count("decisions"),
        ledger: await count("ledger"),
      };
      const replay = await ingestEvents(headroom, batch);
      expect(replay.results.map((r) => r.status)).toEqual(["duplicate", "duplicate", "duplicate"]);
      expect(replay.decisions).toBe(0);
      expect({
        events: await count("events"),
        decisions: await count("decisions"),
        ledger: await count("ledger"),
      }).toEqual(before);
    });

    it("takes the new events of a batch that repeats some taken before, each once", async () => {
      await ingestEvents(headroom, [opened("a1", T0), inquiry("a1", "q1", T0 + DAY)]);
      const mixed = [
        inquiry("a1", "q2", T0 + 2 * DAY),
        inquiry("a1", "q1", T0 + DAY),
        inquiry("a1", "q3", T0 + 3 * DAY),
        inquiry("a1", "q2", T0 + 2 * DAY),
      ];
      const result = await ingestEvents(headroom, mixed);
      expect(result.results.map((r) => r.status)).toEqual(["accepted", "duplicate", "accepted", "duplicate"]);
      expect(result.decisions).toBe(2);
      expect(await count("events")).toBe(4);
      const ids = await headroom.store.db
        .selectFrom("events")
        .select("event_id")
        .orderBy("event_id")
        .execute();
      expect(ids.map((r) => r.event_id)).toEqual(["a1-open", "q1", "q2", "q3"]);
      // Every taken event's decision was recorded once, under its own event.
      expect(await count("decisions")).toBe(3);
    });

    it("does not remember events refused because their account's opening was: sent again once it is open, they are taken", async () => {
      await eastLimitBudget(headroom, 1_000_000);
      const refusedOpening = await ingestEvents(headroom, [
        opened("a1", T0),
        inquiry("a1", "q1", T0 + DAY),
        drawdown("a1", "d1", T0 + DAY, 100_000),
      ]);
      expect(refusedOpening.results).toMatchObject([
        { status: "rejected", reason: expect.stringContaining("credit budget") },
        { status: "rejected", reason: "account a1 is not open" },
        { status: "rejected", reason: "account a1 is not open" },
      ]);
      // Only the opening is remembered; none of the three stays in the event log.
      const refused = await headroom.store.db.selectFrom("refused_events").select("event_id").execute();
      expect(refused.map((r) => r.event_id)).toEqual(["a1-open"]);
      expect(await count("events")).toBe(0);

      await eastLimitBudget(headroom, 10_000_000);
      const again = await ingestEvents(headroom, [
        { ...opened("a1", T0), id: "a1-open-2" },
        opened("a1", T0),
        inquiry("a1", "q1", T0 + DAY),
        drawdown("a1", "d1", T0 + DAY, 100_000),
      ]);
      expect(again.results.map((r) => r.status)).toEqual(["accepted", "duplicate", "accepted", "accepted"]);
      expect((await line("a1")).balance).toBe(100_000);
    });

    it("orders each account's events by event time within a batch", async () => {
      await ingestEvents(headroom, [opened("a1", T0), drawdown("a1", "d1", T0 + DAY, 100_000)]);
      // The repayment arrives first in the batch but happened after the due: it must pay that due.
      const result = await ingestEvents(headroom, [
        repaid("a1", "r1", T0 + 12 * DAY, 50_000),
        due("a1", "u1", T0 + 5 * DAY, T0 + 10 * DAY, 50_000),
      ]);
      expect(result.accepted).toBe(2);
      expect(decodeFeatureState((await line("a1")).features).openDues).toEqual([]);
      expect((await line("a1")).balance).toBe(50_000);
    });

    it("rejects events for unknown accounts and refused drawdowns without storing them", async () => {
      await ingestEvents(headroom, [opened("a1", T0)]);
      const result = await ingestEvents(headroom, [
        inquiry("nobody", "q1", T0 + DAY),
        drawdown("a1", "d-too-big", T0 + DAY, 2_000_001),
        drawdown("a1", "d-stocks", T0 + DAY, 1000, "securities"),
        drawdown("a1", "d-ok", T0 + DAY, 2_000_000),
      ]);
      expect(result.results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "accepted"]);
      expect(result.results[1]).toMatchObject({ reason: expect.stringContaining("exceeds the available") });
      expect(result.results[2]).toMatchObject({ reason: expect.stringContaining("prohibited") });
      expect(await count("events")).toBe(2);
      expect((await line("a1")).balance).toBe(2_000_000);
    });

    it("remembers a refused drawdown: a replay after later events is a duplicate, not judged again", async () => {
      await ingestEvents(headroom, [opened("a1", T0), drawdown("a1", "d1", T0 + DAY, 1_500_000)]);
      // A redelivered stream batch or a retried request: the repayment in it frees the credit
      // the drawdown was refused for, but the drawdown came first and stays refused.
      const batch = [
        drawdown("a1", "d2", T0 + 2 * DAY, 1_000_000),
        repaid("a1", "r1", T0 + 3 * DAY, 1_500_000),
      ];
      const first = await ingestEvents(headroom, batch);
      expect(first.results.map((r) => r.status)).toEqual(["rejected", "accepted"]);
      const replay = await ingestEvents(headroom, batch);
      expect(replay.results.map((r) => r.status)).toEqual(["duplicate", "duplicate"]);
      expect((await line("a1")).balance).toBe(0);
      const refused = await headroom.store.db.selectFrom("refused_events").selectAll().execute();
      expect(refused).toEqual([
        {
          account_id: "a1",
          event_id: "d2",
          reason: "drawdown refused: 1000000 exceeds the available 500000 fen",
          occurred_at: T0 + 2 * DAY,
          recorded_at: clock.now(),
        },
      ]);
    });

    it("takes an event refused for an account not yet open once the account is open", async () => {
      const early = inquiry("a1", "q1", T0 + DAY);
      expect((await ingestEvents(headroom, [early])).results[0]?.status).toBe("rejected");
      await ingestEvents(headroom, [opened("a1", T0)]);
      expect((await ingestEvents(headroom, [early])).results[0]?.status).toBe("accepted");
    });

    it("freezes a seriously delinquent line at once with its reason, notice and ledger seal, and reopens it once cured", async () => {
      await ingestEvents(headroom, [
        opened("a1", T0),
        drawdown("a1", "d1", T0 + DAY, 500_000),
        due("a1", "u1", T0 + 2 * DAY, T0 + 10 * DAY, 50_000),
      ]);
      await ingestEvents(headroom, [inquiry("a1", "q1", T0 + 45 * DAY)]);
      const frozen = await line("a1");
      expect(frozen.status).toBe("FROZEN");
      const [freeze] = (await decisionsOf("a1")).filter((d) => d.action === "freeze");
      expect(freeze).toMatchObject({ status: "applied", rule_id: "delinquency-freeze", adverse: 1 });
      const output = JSON.parse(freeze?.output ?? "{}");
      expect(output.reasons.map((r: { feature: string }) => r.feature)).toEqual(["dpd"]);
      expect(output.reasons[0].value).toBe(35);
      const notices = await headroom.store.db
        .selectFrom("outbox")
        .selectAll()
        .where("account_id", "=", "a1")
        .execute();
      expect(notices.map((n) => n.kind)).toContain("line_changed");
      expect(
        await headroom.store.db
          .selectFrom("ledger")
          .select("kind")
          .where("ref_id", "=", freeze?.id ?? "")
          .execute(),
      ).toHaveLength(1);

      await ingestEvents(headroom, [repaid("a1", "r1", T0 + 46 * DAY, 50_000)]);
      const reopened = await line("a1");
      expect(reopened.status).toBe("ACTIVE");
      // It reopens at its tier's target: one late instalment leaves it in tier D, 1.5 x income.
      expect(reopened.limit_amount).toBe(1_500_000);
      // Reopened in a worse tier, the line also announces a higher rate (test/pricing/rateChanges.test.ts).
      const limitDecisions = (await decisionsOf("a1")).filter((d) => !d.action.startsWith("rate_"));
      expect(limitDecisions.at(-1)).toMatchObject({ action: "reopen", status: "applied" });
    });

    it("announces a non-urgent cut, waits out the notice period, then applies it", async () => {
      const events: CreditEvent[] = [opened("a1", T0, { declaredMonthlyIncome: 2_000_000 })];
      for (let i = 0; i < 3; i++)
        events.push(lenderOpened("a1", `l${i}`, T0 + (20 + i) * DAY, `lender-${i}`));
      for (let i = 0; i < 4; i++) events.push(inquiry("a1", `q${i}`, T0 + (25 + i) * DAY));
      clock.set(T0 + 30 * DAY);
      await ingestEvents(headroom, events);
      const scheduled = (await decisionsOf("a1")).find((d) => d.status === "scheduled");
      expect(scheduled).toMatchObject({
        action: "decrease",
        rule_id: "multi-lending-decrease",
        to_limit: 1_000_000,
      });
      expect(scheduled?.effective_at).toBe((scheduled?.decided_at ?? 0) + 30 * DAY);
      expect(
        JSON.parse(scheduled?.output ?? "{}")
          .reasons.map((r: { feature: string }) => r.feature)
          .sort(),
      ).toEqual(["inquiries30d", "newLenders90d"]);
      expect((await line("a1")).limit_amount).toBe(2_000_000);
      expect(await applyDueActions(headroom)).toEqual({ applied: 0, cancelled: 0 });

      clock.set((scheduled?.effective_at ?? 0) + DAY);
      expect(await applyDueActions(headroom)).toEqual({ applied: 1, cancelled: 0 });
      const after = await line("a1");
      expect(after.limit_amount).toBe(1_000_000);
      expect(after.pending_decision_id).toBeNull();
      const kinds = (
        await headroom.store.db.selectFrom("outbox").select("kind").where("account_id", "=", "a1").execute()
      ).map((n) => n.kind);
      expect(kinds).toEqual(expect.arrayContaining(["scheduled", "action_applied"]));
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });

    it("closes at once on fraud and holds adverse decisions for review when the borrower opted out", async () => {
      await ingestEvents(headroom, [
        opened("a1", T0),
        opened("a2", T0, { optOutAutomated: true, borrowerId: "b2" }),
      ]);
      await ingestEvents(headroom, [fraud("a1", "f1", T0 + DAY), fraud("a2", "f2", T0 + DAY)]);
      expect(await line("a1")).toMatchObject({ status: "CLOSED", limit_amount: 0 });
      const held = await line("a2");
      expect(held).toMatchObject({ status: "ACTIVE", limit_amount: 2_000_000, pending_action: "close" });
      expect((await decisionsOf("a2")).map((d) => d.status)).toEqual(["pending_review"]);
    });

    it("reviews the whole book resumably, never deciding an account twice in one run", async () => {
      const events = Array.from({ length: REVIEW_CHUNK + 200 }, (_, i) =>
        opened(`r${String(i).padStart(4, "0")}`, T0, { borrowerId: `rb${i}` }),
      );
      for (let i = 0; i < events.length; i += 1000) await ingestEvents(headroom, events.slice(i, i + 1000));
      clock.set(T0 + 100 * DAY);
      let chunks = 0;
      await expect(
        runReview(headroom, "run-1", () => {
          chunks++;
          if (chunks === 1) throw new Error("killed after the first chunk");
        }),
      ).rejects.toThrow("killed");
      expect(await count("decisions")).toBe(REVIEW_CHUNK);
      const resumed = await runReview(headroom, "run-1");
      expect(resumed).toMatchObject({ reviewed: 200, done: true });
      const perAccount = await headroom.store.db
        .selectFrom("decisions")
        .select(["account_id", (eb) => eb.fn.countAll<number>().as("n")])
        .groupBy("account_id")
        .having((eb) => eb.fn.countAll(), ">", 1)
        .execute();
      expect(perAccount).toEqual([]);
      expect(await count("decisions")).toBe(REVIEW_CHUNK + 200);
      // A fresh borrower scores in tier C on the default model: 2.5 x the 10,000 yuan income.
      expect((await line("r0000")).limit_amount).toBe(2_500_000);
      expect((await runReview(headroom, "run-1")).reviewed).toBe(0);
    });

    it("detects an edited decision, a deleted ledger row and reordered ledger rows, naming each", async () => {
      await ingestEvents(headroom, [
        opened("a1", T0),
        ...[1, 2, 3, 4, 5].map((i) => inquiry("a1", `q${i}`, T0 + i * DAY)),
      ]);
      expect(await verifyLedger(headroom.store)).toMatchObject({ ok: true, entries: 5 });
      const db = headroom.store.db;
      const rows = await db.selectFrom("ledger").selectAll().orderBy("seq").execute();

      await sql`update decisions set output = replace(output, '"score":', '"score":1') where id = ${rows[1]?.ref_id}`.execute(
        db,
      );
      let report = await verifyLedger(headroom.store);
      expect(report.problems).toEqual([
        expect.objectContaining({ seq: 2, problem: expect.stringContaining("edited after it was sealed") }),
      ]);

      await sql`delete from ledger where seq = 4`.execute(db);
      report = await verifyLedger(headroom.store);
      expect(report.problems.map((p) => p.seq)).toEqual([2, 5, 5, null]);
      expect(report.problems[1]?.problem).toContain("rows 4..4 are missing");
      expect(report.problems[3]).toMatchObject({
        refId: rows[3]?.ref_id,
        problem: expect.stringContaining("not in the ledger"),
      });

      const a = rows[0];
      const b = rows[2];
      if (a === undefined || b === undefined) throw new Error("expected ledger rows");
      await sql`update ledger set ref_id = ${b.ref_id}, body_hash = ${b.body_hash}, hash = ${b.hash}, prev_hash = ${b.prev_hash} where seq = 1`.execute(
        db,
      );
      await sql`update ledger set ref_id = ${a.ref_id}, body_hash = ${a.body_hash}, hash = ${a.hash}, prev_hash = ${a.prev_hash} where seq = 3`.execute(
        db,
      );
      report = await verifyLedger(headroom.store);
      expect(report.ok).toBe(false);
      expect(report.problems.filter((p) => p.seq === 1 || p.seq === 3).length).toBeGreaterThanOrEqual(2);
    });
  });
}
