import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { runRebuildingPlans } from "../../src/services/plans.ts";
import { runReview } from "../../src/services/review.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { drawdown, due, inquiry, iso, opened, repaid } from "../support/events.ts";
import {
  manualClock,
  postgresAvailability,
  postgresTarget,
  type StoreTarget,
  sqliteTarget,
} from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const pgStatus = await postgresAvailability();
if (!pgStatus.ok) console.warn(`SKIPPED: the PostgreSQL run of the borrower journeys (${pgStatus.reason})`);

const INCOME_PROOF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% payslip: 14,000 yuan a month\n%%EOF\n",
);

/** Five months paid on time, then a missed instalment and a burst of credit applications. */
function missedRepaymentAndInquirySpike(): { history: CreditEvent[]; spike: CreditEvent[] } {
  const history: CreditEvent[] = [
    opened("a1", T0, { declaredMonthlyIncome: 1_000_000, initialLimit: 2_000_000 }),
    drawdown("a1", "d1", T0 + DAY, 400_000),
  ];
  for (let m = 0; m < 5; m++) {
    history.push(due("a1", `u${m}`, T0 + (m * 30 + 15) * DAY, T0 + (m * 30 + 25) * DAY, 40_000));
    history.push(repaid("a1", `r${m}`, T0 + (m * 30 + 24) * DAY, 40_000, `u${m}-due`));
  }
  const spike: CreditEvent[] = [due("a1", "u5", T0 + 165 * DAY, T0 + 175 * DAY, 40_000)];
  for (let i = 0; i < 7; i++) spike.push(inquiry("a1", `q${i}`, T0 + (178 + i) * DAY));
  return { history, spike };
}

const targets: { target: StoreTarget; skip: boolean }[] = [
  { target: sqliteTarget, skip: false },
  { target: postgresTarget, skip: !pgStatus.ok },
];

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`borrower journeys on ${target.name}`, () => {
    const clock = manualClock(T0);
    let headroom: Headroom & { dispose(): Promise<void> };
    let app: FastifyInstance;
    let inject: Inject;

    beforeEach(async () => {
      clock.set(T0);
      headroom = await target.open(clock.now);
      app = await buildServer(headroom);
      inject = await injectAs(app, headroom);
    });
    afterEach(async () => {
      await app.close();
      await headroom.dispose();
    });

    const api = async (method: "GET" | "POST" | "PUT", url: string, payload?: Record<string, unknown>) => {
      const response = await inject({ method, url, ...(payload === undefined ? {} : { payload }) });
      return { status: response.statusCode, body: response.json(), type: response.headers["content-type"] };
    };
    const postEvents = (events: CreditEvent[]) => api("POST", "/v1/events", { events });
    const ledgerKinds = async (refId: string) =>
      (
        await headroom.store.db
          .selectFrom("ledger")
          .select("kind")
          .where("ref_id", "=", refId)
          .orderBy("seq")
          .execute()
      ).map((r) => r.kind);

    it("missed repayment and inquiry spike -> advance notice with reasons and recourse -> appeal with income proof -> reviewer reverses -> limit kept", async () => {
      const { history, spike } = missedRepaymentAndInquirySpike();
      clock.set(T0 + 160 * DAY);
      expect((await postEvents(history)).status).toBe(200);
      // Events arrive as they happen, each within the hour.
      for (const event of spike) {
        clock.set(Date.parse(event.occurredAt) + 3_600_000);
        expect((await postEvents([event])).body.accepted).toBe(1);
      }

      // Advance notice: the cut is announced, not applied, with specific reasons and a recourse.
      const { body: decisions } = await api("GET", "/v1/accounts/a1/decisions?changesOnly=true");
      const cut = decisions.decisions.find((d: { action: string }) => d.action === "decrease");
      expect(cut).toMatchObject({
        action: "decrease",
        status: "scheduled",
        fromLimit: 2_000_000,
        toLimit: 1_500_000,
      });
      expect(Date.parse(cut.effectiveAt) - Date.parse(cut.decidedAt)).toBe(30 * DAY);
      // The missed instalment is among the principal reasons; every reason counted in this decision.
      expect(cut.reasons.map((r: { feature: string }) => r.feature)).toContain("overdueCount12m");
      expect((await api("GET", "/v1/accounts/a1")).body).toMatchObject({
        limit: 2_000_000,
        pendingAction: "decrease",
      });
      const { body: notices } = await api("GET", "/v1/accounts/a1/notices");
      const notice = notices.notices.find((n: { kind: string }) => n.kind === "scheduled");
      expect(Date.parse(notice.createdAt) - Date.parse(cut.decidedAt)).toBeLessThan(DAY);
      expect(notice.payload.reasons).toHaveLength(cut.reasons.length);
      expect(notice.payload.recourse.en).toMatch(
        /proof of a monthly income of at least 13,334 yuan.*you keep your limit of 20,000 yuan/,
      );
      expect(notice.payload.recourse.zh).toContain("提供月收入不低于13,334元的证明");
      const { body: recourse } = await api("GET", "/v1/accounts/a1/recourse");
      expect(recourse.decisionId).toBe(cut.decisionId);
      expect(recourse.recourse.steps).toEqual([{ kind: "prove_income", monthlyIncomeAtLeast: 1_333_400 }]);
      expect(await ledgerKinds(cut.decisionId)).toEqual(["decision"]);
      expect(await ledgerKinds(recourse.recourseId)).toEqual(["recourse"]);
      expect(await ledgerKinds(notice.noticeId)).toEqual(["notice"]);

      // Bad appeals are refused as problem+json naming the field, and change nothing.
      const mislabelled = await api("POST", "/v1/accounts/a1/appeals", {
        decisionId: cut.decisionId,
        statement: "My income went up; here is my payslip.",
        requestId: "appeal-bad",
        evidence: [
          {
            kind: "income_proof",
            filename: "payslip.png",
            contentType: "image/png",
            content: INCOME_PROOF.toString("base64"),
          },
        ],
      });
      expect(mislabelled.status).toBe(400);
      expect(mislabelled.type).toContain("application/problem+json");
      expect(mislabelled.body.detail).toContain("/body/evidence/0/content");
      const wrongType = await api("POST", "/v1/accounts/a1/appeals", {
        decisionId: cut.decisionId,
        statement: "My income went up; here is my payslip.",
        requestId: "appeal-bad-2",
        evidence: [
          {
            kind: "income_proof",
            filename: "payslip.exe",
            contentType: "application/x-msdownload",
            content: "TVqQAAM=",
          },
        ],
      });
      expect(wrongType.status).toBe(415);
      expect(wrongType.body.detail).toContain("/body/evidence/0/contentType");

      // The appeal within the notice period pauses the cut.
      clock.set(T0 + 190 * DAY);
      const filed = await api("POST", "/v1/accounts/a1/appeals", {
        decisionId: cut.decisionId,
        statement:
          "I was promoted in June; my salary is now 14,000 yuan a month. The late payment was a bank transfer delay.",
        requestId: "appeal-1",
        evidence: [
          {
            kind: "income_proof",
            filename: "payslip.pdf",
            contentType: "application/pdf",
            content: INCOME_PROOF.toString("base64"),
          },
        ],
      });
      expect(filed.status).toBe(201);
      const appeal = filed.body;
      expect(appeal).toMatchObject({ status: "open", pausedAction: true, deadlineAt: cut.effectiveAt });
      expect(appeal.evidence[0]).toMatchObject({
        contentType: "application/pdf",
        sizeBytes: INCOME_PROOF.length,
        sha256: createHash("sha256").update(INCOME_PROOF).digest("hex"),
      });
      expect(await ledgerKinds(appeal.appealId)).toEqual(["appeal"]);
      expect(await ledgerKinds(appeal.evidence[0].evidenceId)).toEqual(["evidence"]);
      // The borrower's own list shows it; another account's does not.
      expect((await api("GET", "/v1/accounts/a1/appeals")).body.appeals).toEqual([appeal]);
      expect((await api("GET", "/v1/accounts/a2/appeals")).body.appeals).toEqual([]);
      // The reviewer opens the file as uploaded; another appeal's id does not reach it.
      const file = await inject({
        method: "GET",
        url: `/v1/appeals/${appeal.appealId}/evidence/${appeal.evidence[0].evidenceId}`,
      });
      expect(file.statusCode).toBe(200);
      expect(file.headers["content-type"]).toBe("application/pdf");
      expect(file.headers["x-content-type-options"]).toBe("nosniff");
      expect(file.rawPayload.equals(INCOME_PROOF)).toBe(true);
      const elsewhere = await api("GET", `/v1/appeals/apl_other/evidence/${appeal.evidence[0].evidenceId}`);
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.type).toContain("application/problem+json");
      const appealed = (await api("GET", "/v1/accounts/a1/decisions?changesOnly=true")).body.decisions;
      expect(appealed.find((d: { decisionId: string }) => d.decisionId === cut.decisionId).status).toBe(
        "appealed",
      );
      expect(
        (await api("GET", "/v1/appeals")).body.appeals.map((a: { appealId: string }) => a.appealId),
      ).toEqual([appeal.appealId]);

      // A reviewer's reason must say something.
      const terse = await api("POST", `/v1/appeals/${appeal.appealId}/decision`, {
        outcome: "reverse",
        reason: "internal policy",
      });
      expect(terse.status).toBe(422);
      expect(terse.body.detail).toContain("/body/reason");

      const reversed = await api("POST", `/v1/appeals/${appeal.appealId}/decision`, {
        outcome: "reverse",
        reason:
          "Payslip for June verifies 14,000 yuan a month; the tier's income multiple supports the current limit.",
        verifiedMonthlyIncome: 1_400_000,
      });
      expect(reversed.status).toBe(200);
      expect(reversed.body).toMatchObject({
        status: "reversed",
        // The reviewer is the caller who decided, as its credentials say.
        reviewer: expect.stringMatching(/^key:key_/),
        outcomeLimit: 2_000_000,
      });
      expect(await ledgerKinds(appeal.appealId)).toEqual(["appeal", "appeal_decision"]);
      expect((await api("GET", "/v1/appeals")).body.appeals).toEqual([]);
      const decided = (await api("GET", "/v1/accounts/a1/notices")).body.notices.find(
        (n: { kind: string }) => n.kind === "appeal_decided",
      );
      expect(decided.payload).toMatchObject({ outcome: "reverse", limit: 2_000_000 });
      expect(decided.payload.zh).toContain("撤销原决定");

      // The borrower pays the missed instalment; the notice period runs out and nothing is cut;
      // the next review sees the proven income.
      clock.set(T0 + 192 * DAY);
      expect((await postEvents([repaid("a1", "r5", T0 + 192 * DAY, 40_000)])).body.accepted).toBe(1);
      clock.set(T0 + 230 * DAY);
      // Only the rate rise announced beside the cut (not appealed: the missed instalment still
      // costs the clean-record discount) takes effect; drawdowns already made keep their rate.
      expect(await applyDueActions(headroom)).toEqual({ applied: 1, cancelled: 0 });
      const rated = (await api("GET", "/v1/accounts/a1/decisions?changesOnly=true")).body.decisions;
      expect(
        rated
          .filter((d: { status: string }) => d.status === "applied")
          .map((d: { action: string }) => d.action),
      ).toContain("rate_increase");
      await runReview(headroom, "after-appeal");
      const account = (await api("GET", "/v1/accounts/a1")).body;
      expect(account).toMatchObject({ limit: 2_000_000, pendingAction: null, status: "ACTIVE" });
      expect(
        account.decisions.find((d: { decisionId: string }) => d.decisionId === cut.decisionId).status,
      ).toBe("cancelled");
      expect(
        await headroom.store.db
          .selectFrom("line_changes")
          .selectAll()
          .where("account_id", "=", "a1")
          .execute(),
      ).toEqual([]);
      expect((await api("GET", "/v1/audit/verify")).body).toMatchObject({ ok: true, problems: [] });
    });

    it("freeze -> rebuilding plan with checkpoints -> borrower follows it -> the review job reopens the line", async () => {
      clock.set(T0 + 40 * DAY);
      await postEvents([
        opened("b1", T0, { declaredMonthlyIncome: 1_000_000, initialLimit: 2_000_000, borrowerId: "bb1" }),
        drawdown("b1", "d1", T0 + DAY, 400_000),
        due("b1", "u0", T0 + 15 * DAY, T0 + 25 * DAY, 40_000),
        {
          id: "t1",
          accountId: "b1",
          type: "transaction",
          occurredAt: iso(T0 + 40 * DAY),
          data: { amount: 300_000, category: "securities" },
        },
      ]);
      // Urgent: the freeze (with recall) applies at once, noticed at once, with its way back.
      const { body: account } = await api("GET", "/v1/accounts/b1");
      expect(account.status).toBe("FROZEN");
      const freeze = account.decisions.find((d: { action: string }) => d.action === "freeze");
      expect(freeze).toMatchObject({ status: "applied", ruleId: "prohibited-use-recall" });
      expect(freeze.effectiveAt).toBe(freeze.decidedAt);
      expect(freeze.reasons.map((r: { feature: string }) => r.feature)).toEqual(["prohibitedUse90d"]);
      const { body: recourse } = await api("GET", "/v1/accounts/b1/recourse");
      expect(recourse.recourse.goal).toBe("reopen");
      const steps = recourse.recourse.steps;
      expect(steps.map((s: { kind: string }) => s.kind)).toEqual(["repay_overdue", "prove_income", "wait"]);
      expect(recourse.recourse.outcome.limit).toBe(2_000_000);
      const by = recourse.recourse.by as number;
      expect(by).toBe(T0 + 131 * DAY); // the day after the misuse leaves the 90-day window

      // The review job turns the recourse into a plan and tells the borrower.
      expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 1, reopened: 0 });
      let plan = (await api("GET", "/v1/accounts/b1/plans")).body.plans[0];
      expect(plan).toMatchObject({ status: "active", targetLimit: 2_000_000 });
      expect(plan.checkpoints.map((c: { met: boolean }) => c.met)).toEqual([false, false, false]);
      expect(plan.checkpoints[0].en).toBe("you repay the overdue 400 yuan");
      expect(plan.checkpoints[1].zh).toBe("提供月收入不低于13,334元的证明");
      expect(await ledgerKinds(plan.planId)).toEqual(["rebuilding_plan"]);
      const kinds = (await api("GET", "/v1/accounts/b1/notices")).body.notices.map(
        (n: { kind: string }) => n.kind,
      );
      expect(kinds).toEqual(expect.arrayContaining(["line_changed", "plan_created"]));

      // The borrower repays and proves the income at once: two checkpoints met, the line stays
      // frozen while the misuse still counts.
      clock.set(T0 + 46 * DAY);
      await postEvents([
        repaid("b1", "r0", T0 + 45 * DAY, steps[0].amount),
        {
          id: "inc1",
          accountId: "b1",
          type: "income_verified",
          occurredAt: iso(T0 + 46 * DAY),
          data: { monthlyIncome: steps[1].monthlyIncomeAtLeast, source: "payslip" },
        },
      ]);
      await runRebuildingPlans(headroom);
      plan = (await api("GET", "/v1/accounts/b1/plans")).body.plans[0];
      expect(plan.checkpoints.map((c: { met: boolean }) => c.met)).toEqual([true, true, false]);
      expect((await api("GET", "/v1/accounts/b1")).body.status).toBe("FROZEN");

      // A day before the promised date nothing moves; on it the review job reopens the line.
      clock.set(by - DAY);
      expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 0 });
      clock.set(by);
      expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 1 });
      const reopened = (await api("GET", "/v1/accounts/b1")).body;
      expect(reopened).toMatchObject({ status: "ACTIVE", limit: recourse.recourse.outcome.limit });
      const reopen = reopened.decisions.find((d: { action: string }) => d.action === "reopen");
      expect(reopen).toMatchObject({ status: "applied", trigger: "analyst" });
      const record = (await api("GET", `/v1/decisions/${reopen.decisionId}`)).body;
      expect(record.output.affordability).toMatchObject({
        passed: true,
        income: 1_333_400,
        incomeVerified: true,
      });
      expect(await ledgerKinds(reopen.decisionId)).toEqual(["decision"]);
      plan = (await api("GET", "/v1/accounts/b1/plans")).body.plans[0];
      expect(plan).toMatchObject({
        status: "reopened",
        checkpoints: [{ met: true }, { met: true }, { met: true }],
      });
      const notices = (await api("GET", "/v1/accounts/b1/notices")).body.notices;
      expect(notices.find((n: { kind: string }) => n.kind === "plan_met").payload.en).toContain(
        "your line is open again with a limit of 20,000 yuan",
      );
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });

    it("holds an opted-out borrower's adverse decision for a reviewer, who upholds it with a reason", async () => {
      clock.set(T0 + 10 * DAY);
      await postEvents([opened("c1", T0, { borrowerId: "bc1" })]);
      expect((await api("PUT", "/v1/accounts/c1/automated-decisions", { optOut: true })).body).toEqual({
        accountId: "c1",
        optOutAutomated: true,
      });
      // A retry at the same instant lands on the same notice: written and sealed once.
      await api("PUT", "/v1/accounts/c1/automated-decisions", { optOut: true });
      const preference = (await api("GET", "/v1/accounts/c1/notices")).body.notices.filter(
        (n: { kind: string }) => n.kind === "automated_decisions_preference",
      );
      expect(preference).toHaveLength(1);
      expect(await ledgerKinds(preference[0].noticeId)).toEqual(["notice"]);
      await postEvents([
        {
          id: "f1",
          accountId: "c1",
          type: "fraud_reported",
          occurredAt: iso(T0 + 10 * DAY),
          data: { source: "device_risk" },
        },
      ]);
      expect((await api("GET", "/v1/accounts/c1")).body).toMatchObject({
        status: "ACTIVE",
        pendingAction: "close",
      });
      const queue = (await api("GET", "/v1/appeals")).body.appeals;
      expect(queue).toHaveLength(1);
      expect(queue[0]).toMatchObject({ kind: "opt_out", accountId: "c1", status: "open" });
      const upheld = await api("POST", `/v1/appeals/${queue[0].appealId}/decision`, {
        outcome: "uphold",
        reason: "Device fingerprint matches three confirmed fraud cases; closure is warranted.",
      });
      expect(upheld.body).toMatchObject({ status: "upheld", outcomeLimit: 0 });
      expect((await api("GET", "/v1/accounts/c1")).body).toMatchObject({
        status: "CLOSED",
        limit: 0,
        pendingAction: null,
      });
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });
  });
}
