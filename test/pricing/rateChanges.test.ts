import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { nextRate, percent } from "../../src/engine/pricing/rateChange.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { renderNotice } from "../../src/services/channels/templates.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { drawdown, due, opened, repaid } from "../support/events.ts";
import { manualClock, type StoreTarget, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

describe("the next rate of a line", () => {
  const terms = { rate: 1440, tier: "B", basis: [], policyVersion: "v1", product: "p" };
  it("applies a decrease at once, announces an increase, withdraws an announcement no longer priced", () => {
    expect(nextRate(null, 1800)).toEqual({ kind: "pin" });
    expect(nextRate({ ...terms, pending: null }, 1200)).toEqual({ kind: "decrease", cancelPending: false });
    expect(nextRate({ ...terms, pending: null }, 1800)).toEqual({ kind: "increase", cancelPending: false });
    const pending = { decisionId: "d", rate: 1800, effectiveAt: T0 };
    expect(nextRate({ ...terms, pending }, 2000)).toEqual({ kind: "keep" });
    expect(nextRate({ ...terms, pending }, 1600)).toEqual({ kind: "increase", cancelPending: true });
    expect(nextRate({ ...terms, pending }, 1440)).toEqual({ kind: "cancel_pending" });
    expect(nextRate({ ...terms, pending }, 1000)).toEqual({ kind: "decrease", cancelPending: true });
  });
});

const targets: { target: StoreTarget; skip: boolean }[] = await storeTargets("rate changes");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`rate changes on ${target.name}`, () => {
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

    const events = async (list: unknown[]) => {
      const r = await inject({ method: "POST", url: "/v1/events", payload: { events: list } });
      expect(r.json().rejected).toBe(0);
    };
    const quote = async () =>
      (
        await inject({
          method: "POST",
          url: "/v1/accounts/a1/drawdown-quote",
          payload: { amount: 100_000, termMonths: 12 },
        })
      ).json();
    const drawnRates = async () =>
      Object.fromEntries(
        (await inject({ method: "GET", url: "/v1/accounts/a1/drawdowns" }))
          .json()
          .drawdowns.map((d: { id: string; annualRateBps: number }) => [d.id, d.annualRateBps]),
      );
    const rateDecisions = async () =>
      (await inject({ method: "GET", url: "/v1/accounts/a1/decisions?changesOnly=true" }))
        .json()
        .decisions.filter((d: { action: string }) => d.action.startsWith("rate_"));
    const notices = async () =>
      (await inject({ method: "GET", url: "/v1/accounts/a1/notices" })).json().notices;

    /** A drawdown priced on a clean line, then a late instalment that costs it its tier. */
    async function lateInstalment(): Promise<number> {
      clock.set(T0 + DAY);
      await events([opened("a1", T0), drawdown("a1", "d1", T0 + DAY, 300_000)]);
      const agreed = (await drawnRates())["a1:d1"] as number;
      clock.set(T0 + 50 * DAY);
      await events([
        due("a1", "u1", T0 + 2 * DAY, T0 + 10 * DAY, 50_000),
        repaid("a1", "r1", T0 + 50 * DAY, 50_000),
      ]);
      return agreed;
    }

    it("a worse tier announces a higher rate with reasons and recourse; new drawdowns take it only after the notice, earlier ones never", async () => {
      const agreed = await lateInstalment();
      const [rise] = await rateDecisions();
      expect(rise).toMatchObject({ action: "rate_increase", status: "scheduled", adverse: true });
      expect(rise.reasons.length).toBeGreaterThan(0);
      const noticeDays = headroom.engine.policy.guardrails.noticeDays;
      expect(Date.parse(rise.effectiveAt) - Date.parse(rise.decidedAt)).toBe(noticeDays * DAY);

      const notice = (await notices()).find(
        (n: { payload: { decisionId: string } }) => n.payload.decisionId === rise.decisionId,
      );
      expect(notice.kind).toBe("scheduled");
      expect(notice.payload.fromRate).toBe(agreed);
      expect(notice.payload.toRate).toBeGreaterThan(agreed);
      expect(notice.payload.reasons).toEqual(rise.reasons);
      expect(notice.payload.recourse.en).toMatch(/Your rate goes back to/);
      const higher = notice.payload.toRate as number;
      const text = renderNotice(JSON.stringify(notice.payload), "en").text;
      expect(text).toContain("raise the annual rate of new drawdowns");
      expect(text).toContain(`Annual rate: ${percent(agreed)} -> ${percent(higher)}`);
      expect(renderNotice(JSON.stringify(notice.payload), "zh-CN").text).toContain("已支用的款项利率不变");

      // During the notice the quote and the drawdown keep the agreed rate, and say what is coming.
      const during = await quote();
      expect(during.annualRateBps).toBe(agreed);
      expect(during.announced).toEqual({ annualRateBps: higher, effectiveAt: rise.effectiveAt });
      clock.set(T0 + 51 * DAY);
      await events([drawdown("a1", "d2", T0 + 51 * DAY, 50_000)]);
      expect((await drawnRates())["a1:d2"]).toBe(agreed);

      // The notice period ends: new drawdowns take the higher rate; d1 and d2 keep theirs.
      clock.set(Date.parse(rise.effectiveAt) + DAY);
      await applyDueActions(headroom);
      expect((await rateDecisions())[0]).toMatchObject({ decisionId: rise.decisionId, status: "applied" });
      expect((await quote()).annualRateBps).toBe(higher);
      await events([drawdown("a1", "d3", clock.now(), 10_000)]);
      expect(await drawnRates()).toEqual({ "a1:d1": agreed, "a1:d2": agreed, "a1:d3": higher });
      expect((await notices()).map((n: { kind: string }) => n.kind)).toContain("action_applied");
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
      // The rates of the change are sealed: editing them breaks the ledger.
      await headroom.store.db.updateTable("rate_changes").set({ to_rate_bps: agreed }).execute();
      expect((await verifyLedger(headroom.store)).problems.map((p) => p.problem).join("; ")).toMatch(
        /rate change .* was edited after it was sealed/,
      );
    });

    it("an appeal pauses a rate rise like a cut, and a reviewer's reversal keeps the agreed rate", async () => {
      const agreed = await lateInstalment();
      const [rise] = await rateDecisions();
      const filed = await inject({
        method: "POST",
        url: "/v1/accounts/a1/appeals",
        payload: {
          decisionId: rise.decisionId,
          statement: "The instalment was late because my bank moved the payment date.",
          requestId: "req-1",
        },
      });
      expect(filed.statusCode).toBe(201);
      expect(filed.json()).toMatchObject({ status: "open", pausedAction: true });
      // The date passes while the appeal is open: the rise does not apply.
      clock.set(Date.parse(rise.effectiveAt) + DAY);
      await applyDueActions(headroom);
      expect((await rateDecisions())[0].status).toBe("appealed");
      expect((await quote()).annualRateBps).toBe(agreed);
      const reversed = await inject({
        method: "POST",
        url: `/v1/appeals/${filed.json().appealId}/decision`,
        payload: {
          outcome: "reverse",
          reason: "The bank statement shows the lender's own payment date change caused the delay.",
        },
      });
      expect(reversed.json().status).toBe("reversed");
      expect((await rateDecisions())[0].status).toBe("cancelled");
      expect(await quote()).toMatchObject({ annualRateBps: agreed, announced: null });
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });

    const incomeVerified = (id: string, at: number, monthlyIncome: number) => ({
      id,
      accountId: "a1",
      type: "income_verified",
      occurredAt: new Date(at).toISOString(),
      data: { monthlyIncome, source: "payslip" },
    });

    it("a lower rate applies at once and withdraws a rise still announced", async () => {
      const agreed = await lateInstalment();
      // The late instalment has aged out and a verified income improves the tier: the rate falls
      // below the agreed one at once, and the rise still announced (the due-action job has not
      // run since) is withdrawn.
      clock.set(T0 + 500 * DAY);
      await events([incomeVerified("i1", T0 + 500 * DAY, 8_000_000)]);
      const [lower, rise] = await rateDecisions();
      expect(rise).toMatchObject({ action: "rate_increase", status: "cancelled" });
      expect(lower).toMatchObject({ action: "rate_decrease", status: "applied", adverse: false });
      expect(lower.effectiveAt).toBe(lower.decidedAt);
      const now = await quote();
      expect(now.announced).toBeNull();
      expect(now.annualRateBps).toBeLessThan(agreed);
      const kinds = (await notices()).map((n: { kind: string }) => n.kind);
      expect(kinds).toContain("rate_increase_withdrawn");
      expect(kinds).toContain("line_changed");
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });
  });
}
