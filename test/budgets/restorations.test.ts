import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Recourse } from "../../src/engine/recourse.ts";
import { decideAppeal, fileAppeal } from "../../src/services/appeals.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { drainBudgetQueue } from "../../src/services/budgetQueue.ts";
import { budgetQueue, listBudgets } from "../../src/services/budgets.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { listPlans, runRebuildingPlans } from "../../src/services/plans.ts";
import { eastLimitBudget } from "../support/budgets.ts";
import { closedForDelinquency, fraud, incomeVerified, iso, multiLending, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const REASON = "Bank statements show the new lenders were refinanced into one loan; risk is lower.";
/** A noticed cut halves a 2,000,000 fen line; its reversal gives back 1,000,000. */
const CUT_FROM = 2_000_000;
const CUT_TO = 1_000_000;
/** An ordinary increase: +50% of a 1,000,000 fen line. */
const STEP = 500_000;

const targets = await storeTargets("the budget restorations suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(
    `appeal reversals and plan reopenings under exposure budgets on ${target.name}`,
    () => {
      let headroom: Headroom & { dispose(): Promise<void> };
      const clock = manualClock(T0);
      beforeEach(async () => {
        clock.set(T0);
        headroom = await target.open(clock.now);
      });
      afterEach(async () => {
        await headroom.dispose();
      });

      const budget = (cap: number) => eastLimitBudget(headroom, cap);
      const lineOf = (accountId: string) =>
        headroom.store.db
          .selectFrom("credit_lines")
          .selectAll()
          .where("account_id", "=", accountId)
          .executeTakeFirstOrThrow();
      const eastUsage = async () => {
        const rows = await headroom.store.db
          .selectFrom("credit_lines")
          .select("limit_amount")
          .where("region", "=", "east")
          .execute();
        return rows.reduce((sum, r) => sum + Number(r.limit_amount), 0);
      };
      /** The region budget's usage, checked against the lines it covers and its cap. */
      const usedWithin = async (cap: number) => {
        const [view] = await listBudgets(headroom.store);
        expect(view?.used).toBe(await eastUsage());
        expect(view?.used).toBeLessThanOrEqual(cap);
        return view?.used ?? Number.NaN;
      };
      const noticesOf = async (accountId: string, kind: string) =>
        (
          await headroom.store.db
            .selectFrom("outbox")
            .select("payload")
            .where("account_id", "=", accountId)
            .where("kind", "=", kind)
            .execute()
        ).map((n) => JSON.parse(n.payload) as Record<string, unknown>);

      /** Account `a1`: a halving of its line announced at `at` (it takes effect 30 days later). */
      async function noticedCut(at: number): Promise<string> {
        clock.set(at);
        await ingestEvents(headroom, [
          opened("a1", T0, { declaredMonthlyIncome: 2_000_000, initialLimit: CUT_FROM }),
          ...multiLending("a1", at),
        ]);
        const cut = await headroom.store.db
          .selectFrom("decisions")
          .select("id")
          .where("account_id", "=", "a1")
          .where("status", "=", "scheduled")
          .executeTakeFirstOrThrow();
        return cut.id;
      }
      /** The cut takes effect at `at`, and the borrower appeals it. */
      async function carryOutAndAppeal(cutId: string, at: number): Promise<string> {
        clock.set(at);
        expect(await applyDueActions(headroom)).toMatchObject({ applied: 1 });
        expect((await lineOf("a1")).limit_amount).toBe(CUT_TO);
        const appeal = await fileAppeal(headroom, "a1", {
          decisionId: cutId,
          statement: "The three loans were one refinancing; see my bank statement.",
          evidence: [],
          requestId: "r1",
        });
        return appeal.appealId;
      }
      const reverse = (appealId: string) =>
        decideAppeal(headroom, appealId, { reviewer: "rev-1", outcome: "reverse", reason: REASON });
      const openSafe = () =>
        ingestEvents(headroom, [
          opened("safe", T0 - 60 * DAY, { declaredMonthlyIncome: 3_000_000, initialLimit: 1_000_000 }),
        ]);
      const waitingKinds = async () =>
        (await budgetQueue(headroom.store, "waiting")).map((w) => [w.kind, w.accountId]);

      it("an upheld appeal under a tight budget waits at the front of the queue, ahead of an increase that asked earlier, and is granted first", async () => {
        const cutId = await noticedCut(T0 + 60 * DAY);
        await openSafe();
        const appealId = await carryOutAndAppeal(cutId, T0 + 91 * DAY);
        clock.set(T0 + 100 * DAY);
        // No room: the committed credit of the region as it is now.
        let cap = CUT_TO + 1_000_000;
        await budget(cap);
        // The ordinary increase asks first and waits.
        await ingestEvents(headroom, [incomeVerified("safe", clock.now() - DAY)]);
        expect(await waitingKinds()).toEqual([["increase", "safe"]]);

        clock.set(T0 + 101 * DAY);
        const decided = await reverse(appealId);
        // The reversal stands (the record says so), but no room: the limit waits, the cap holds.
        expect(decided).toMatchObject({ status: "reversed", outcomeLimit: CUT_FROM });
        expect(await lineOf("a1")).toMatchObject({
          limit_amount: CUT_TO,
          pending_decision_id: cutId,
          pending_action: "increase",
        });
        expect(await usedWithin(cap)).toBe(cap);
        expect(await waitingKinds()).toEqual([
          ["reversal", "a1"],
          ["increase", "safe"],
        ]);
        const [first] = await budgetQueue(headroom.store, "waiting");
        expect(first).toMatchObject({
          appealId,
          decisionId: cutId,
          fromLimit: CUT_TO,
          requestedLimit: CUT_FROM,
        });
        const [told] = await noticesOf("a1", "appeal_decided");
        expect(told).toMatchObject({ outcome: "reverse", limit: CUT_FROM, restoration: "waiting" });
        expect(told?.en).toContain("first in line");
        const cut = await headroom.store.db
          .selectFrom("decisions")
          .select("status")
          .where("id", "=", cutId)
          .executeTakeFirstOrThrow();
        expect(cut.status).toBe("reversed");
        // While the limit is on its way back, no ordinary change is decided on the line.
        await ingestEvents(headroom, [incomeVerified("a1", clock.now())]);
        expect((await lineOf("a1")).limit_amount).toBe(CUT_TO);
        const sinceReversal = await headroom.store.db
          .selectFrom("decisions")
          .select(["action", "trigger_kind"])
          .where("account_id", "=", "a1")
          .where("decided_at", ">=", clock.now())
          .execute();
        expect(sinceReversal.map((d) => d.action)).toEqual(["none"]);
        expect(await waitingKinds()).toEqual([
          ["reversal", "a1"],
          ["increase", "safe"],
        ]);

        // Room for the increase but not the reversal: the increase may not overtake it.
        cap += STEP;
        await budget(cap);
        expect([(await lineOf("a1")).limit_amount, (await lineOf("safe")).limit_amount]).toEqual([
          CUT_TO,
          1_000_000,
        ]);
        expect(await usedWithin(cap)).toBe(cap - STEP);

        // Room for the reversal: it is granted first, and the increase keeps waiting.
        clock.set(T0 + 102 * DAY);
        cap += CUT_FROM - CUT_TO - STEP;
        await budget(cap);
        expect(await lineOf("a1")).toMatchObject({
          limit_amount: CUT_FROM,
          status: "ACTIVE",
          pending_decision_id: null,
          pending_action: null,
        });
        expect((await lineOf("safe")).limit_amount).toBe(1_000_000);
        expect(await usedWithin(cap)).toBe(cap);
        expect(await waitingKinds()).toEqual([["increase", "safe"]]);
        const [granted] = await budgetQueue(headroom.store, "granted");
        expect(granted).toMatchObject({ kind: "reversal", accountId: "a1", settledDecisionId: cutId });
        const changes = await headroom.store.db
          .selectFrom("line_changes")
          .select(["from_limit", "to_limit", "effective_at"])
          .where("account_id", "=", "a1")
          .orderBy("effective_at")
          .execute();
        expect(changes.map((c) => [c.from_limit, c.to_limit, Number(c.effective_at)])).toEqual([
          [CUT_FROM, CUT_TO, expect.any(Number)],
          [CUT_TO, CUT_FROM, T0 + 102 * DAY],
        ]);
        expect(await noticesOf("a1", "limit_restored")).toEqual([
          expect.objectContaining({ appealId, limit: CUT_FROM }),
        ]);

        // Then the increase, when its own room comes.
        cap += STEP;
        await budget(cap);
        expect((await lineOf("safe")).limit_amount).toBe(1_000_000 + STEP);
        expect(await usedWithin(cap)).toBe(cap);
        expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      });

      it("a reversal that fits is granted at once though an increase waits, taking the budget exactly to its cap", async () => {
        const cutId = await noticedCut(T0 + 60 * DAY);
        await openSafe();
        const cap = CUT_FROM + 1_000_000;
        await budget(cap);
        clock.set(T0 + 62 * DAY);
        await ingestEvents(headroom, [incomeVerified("safe", clock.now())]);
        expect(await waitingKinds()).toEqual([["increase", "safe"]]);
        // The cut frees room (no drain has run since); the reversal takes all of it at once.
        const appealId = await carryOutAndAppeal(cutId, T0 + 91 * DAY);
        expect(cap - (await usedWithin(cap))).toBe(CUT_FROM - CUT_TO);
        expect(await reverse(appealId)).toMatchObject({ status: "reversed", outcomeLimit: CUT_FROM });
        expect(await lineOf("a1")).toMatchObject({ limit_amount: CUT_FROM, pending_action: null });
        expect(await usedWithin(cap)).toBe(cap);
        expect(await waitingKinds()).toEqual([["increase", "safe"]]);
        expect((await noticesOf("a1", "appeal_decided"))[0]).toMatchObject({ restoration: "applied" });
        expect(await drainBudgetQueue(headroom)).toEqual({ granted: 0, lapsed: 0 });
        expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      });

      it("a plan's reopening waits behind a reversal and ahead of an earlier increase; the queue decides it again and grants it in turn", async () => {
        const cutId = await noticedCut(T0 + 60 * DAY);
        await openSafe();
        const appealId = await carryOutAndAppeal(cutId, T0 + 91 * DAY);
        // c1 falls 90 days behind and is closed; its plan asks it to repay the overdue amount.
        clock.set(T0 + 120 * DAY);
        await ingestEvents(headroom, closedForDelinquency("c1", T0));
        expect(await lineOf("c1")).toMatchObject({ status: "CLOSED", limit_amount: 0 });
        expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 1 });
        const [plan] = await listPlans(headroom, "c1");
        const target = plan?.targetLimit ?? 0;
        expect(target).toBeGreaterThan(0);
        const recourse = (
          await headroom.store.db
            .selectFrom("decision_recourse")
            .select("recourse")
            .where("account_id", "=", "c1")
            .executeTakeFirstOrThrow()
        ).recourse;
        const overdue = (JSON.parse(recourse) as Recourse).steps.find((s) => s.kind === "repay_overdue");
        expect(overdue).toBeDefined();

        // Tight: the region as it stands. An ordinary increase asks first.
        clock.set(T0 + 121 * DAY);
        let cap = CUT_TO + 1_000_000;
        await budget(cap);
        await ingestEvents(headroom, [incomeVerified("safe", clock.now())]);
        // The plan is met: its reopening queues (after the increase asked, but ahead of it).
        clock.set(T0 + 122 * DAY);
        await ingestEvents(headroom, [
          {
            id: "c1-repay",
            accountId: "c1",
            type: "repayment_made",
            occurredAt: iso(clock.now()),
            data: { amount: overdue?.kind === "repay_overdue" ? overdue.amount : 0 },
          },
        ]);
        expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 0 });
        expect(await lineOf("c1")).toMatchObject({
          status: "CLOSED",
          limit_amount: 0,
          pending_action: "reopen",
        });
        expect(await noticesOf("c1", "reopen_queued")).toEqual([expect.objectContaining({ limit: target })]);
        // Checked again while it waits: the plan stays open and nothing is decided twice.
        expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 0 });
        const [waitingPlan] = await listPlans(headroom, "c1");
        expect(waitingPlan).toMatchObject({ status: "active", outcome: expect.stringContaining("waits") });
        // The reversal comes last and goes first.
        clock.set(T0 + 123 * DAY);
        await reverse(appealId);
        expect(await waitingKinds()).toEqual([
          ["reversal", "a1"],
          ["reopen", "c1"],
          ["increase", "safe"],
        ]);
        expect(await usedWithin(cap)).toBe(cap);

        cap += CUT_FROM - CUT_TO;
        await budget(cap);
        expect((await lineOf("a1")).limit_amount).toBe(CUT_FROM);
        expect(await waitingKinds()).toEqual([
          ["reopen", "c1"],
          ["increase", "safe"],
        ]);
        // One fen short of the reopening: the increase, which would fit, still waits behind it.
        cap += target - 1;
        await budget(cap);
        expect((await lineOf("c1")).status).toBe("CLOSED");
        expect((await lineOf("safe")).limit_amount).toBe(1_000_000);
        clock.set(T0 + 124 * DAY);
        cap += 1;
        await budget(cap);
        expect(await lineOf("c1")).toMatchObject({
          status: "ACTIVE",
          limit_amount: target,
          pending_action: null,
        });
        expect(await usedWithin(cap)).toBe(cap);
        expect(await waitingKinds()).toEqual([["increase", "safe"]]);
        const reopenings = await headroom.store.db
          .selectFrom("decisions")
          .select(["status", "output"])
          .where("account_id", "=", "c1")
          .where("action", "=", "reopen")
          .orderBy("decided_at")
          .execute();
        expect(reopenings.map((r) => r.status)).toEqual(["queued", "applied"]);
        expect(JSON.parse(reopenings[1]?.output ?? "{}").affordability).toMatchObject({ passed: true });
        // The plan closes as met on its next check.
        await runRebuildingPlans(headroom);
        expect((await listPlans(headroom, "c1"))[0]).toMatchObject({ status: "reopened" });
        expect(await noticesOf("c1", "plan_met")).toHaveLength(1);
        cap += STEP;
        await budget(cap);
        expect((await lineOf("safe")).limit_amount).toBe(1_000_000 + STEP);
        expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      });

      it("an increase announced with notice spends budget when it comes due, or joins the queue; granted later, it takes effect at once", async () => {
        // A policy that announces increases 10 days ahead instead of granting them at once.
        headroom.engine.policy = {
          ...headroom.engine.policy,
          version: "policy-noticed-increases",
          rules: headroom.engine.policy.rules.map((r) =>
            r.action === "increase" ? { ...r, urgency: "notice" as const, noticeDays: 10 } : r,
          ),
        };
        clock.set(T0 + 100 * DAY);
        await openSafe();
        await budget(1_000_000);
        await ingestEvents(headroom, [incomeVerified("safe", clock.now())]);
        const announced = await headroom.store.db
          .selectFrom("decisions")
          .select(["id", "status"])
          .where("account_id", "=", "safe")
          .where("action", "=", "increase")
          .executeTakeFirstOrThrow();
        expect(announced.status).toBe("scheduled");
        clock.set(T0 + 110 * DAY);
        expect(await applyDueActions(headroom)).toEqual({ applied: 0, cancelled: 0 });
        expect(await lineOf("safe")).toMatchObject({ limit_amount: 1_000_000, pending_action: null });
        expect(await usedWithin(1_000_000)).toBe(1_000_000);
        const [waits] = await budgetQueue(headroom.store, "waiting");
        expect(waits).toMatchObject({ kind: "increase", accountId: "safe", decisionId: announced.id });
        const status = await headroom.store.db
          .selectFrom("decisions")
          .select("status")
          .where("id", "=", announced.id)
          .executeTakeFirstOrThrow();
        expect(status.status).toBe("queued");

        // Room frees: the borrower has had notice of this increase, so it takes effect now, up to
        // the limit the notice gave, and is not announced a second time with a fresh notice period.
        const { to_limit: announcedLimit } = await headroom.store.db
          .selectFrom("decisions")
          .select("to_limit")
          .where("id", "=", announced.id)
          .executeTakeFirstOrThrow();
        clock.set(T0 + 120 * DAY);
        // Raising the cap drains the queue.
        await budget(3_000_000);
        expect(await budgetQueue(headroom.store, "waiting")).toEqual([]);
        const granted = await headroom.store.db
          .selectFrom("decisions")
          .select(["status", "to_limit", "effective_at", "decided_at", "input"])
          .where("account_id", "=", "safe")
          .where("trigger_kind", "=", "analyst")
          .executeTakeFirstOrThrow();
        expect(granted.status).toBe("applied");
        expect(granted.effective_at).toBe(granted.decided_at);
        expect(granted.to_limit).toBeLessThanOrEqual(Number(announcedLimit));
        expect(JSON.parse(granted.input).trigger.announced).toEqual({
          decisionId: announced.id,
          toLimit: Number(announcedLimit),
        });
        expect(await lineOf("safe")).toMatchObject({ limit_amount: granted.to_limit, pending_action: null });
        expect(await noticesOf("safe", "scheduled")).toHaveLength(1);
        expect(await noticesOf("safe", "line_changed")).toEqual([
          expect.objectContaining({ toLimit: granted.to_limit }),
        ]);
        expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      });

      it("a waiting reversal an urgent closure overtook is not granted; the borrower is told why", async () => {
        const cutId = await noticedCut(T0 + 60 * DAY);
        const appealId = await carryOutAndAppeal(cutId, T0 + 91 * DAY);
        await budget(CUT_TO);
        clock.set(T0 + 92 * DAY);
        await reverse(appealId);
        expect(await waitingKinds()).toEqual([["reversal", "a1"]]);
        // Fraud: closed at once though the limit was on its way back; the closure frees the room.
        await ingestEvents(headroom, [fraud("a1", "f1", clock.now())]);
        expect(await lineOf("a1")).toMatchObject({ status: "CLOSED", limit_amount: 0 });
        expect(await drainBudgetQueue(headroom)).toEqual({ granted: 0, lapsed: 1 });
        expect(await lineOf("a1")).toMatchObject({ status: "CLOSED", limit_amount: 0, pending_action: null });
        expect(await budgetQueue(headroom.store, "lapsed")).toEqual([
          expect.objectContaining({ kind: "reversal", accountId: "a1" }),
        ]);
        const [withdrawn] = await noticesOf("a1", "restoration_withdrawn");
        expect(withdrawn?.en).toContain("a later decision");
        expect(await usedWithin(CUT_TO)).toBe(0);
        expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      });
    },
  );
}
