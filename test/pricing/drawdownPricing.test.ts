import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { DEFAULT_PRICING } from "../../src/engine/pricing/rate.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { drawdown, due, iso, opened, repaid } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
const NOW = T0 + 60 * DAY;

describe("drawdown pricing", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let inject: Inject;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(NOW).now);
    app = await buildServer(headroom);
    inject = await injectAs(app, headroom);
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  const events = (list: unknown[]) =>
    inject({ method: "POST", url: "/v1/events", payload: { events: list } });
  const quote = (accountId: string, body: Record<string, unknown>) =>
    inject({ method: "POST", url: `/v1/accounts/${accountId}/drawdown-quote`, payload: body });

  it("quotes the cost before drawing, then prices the drawdown exactly as quoted and seals it", async () => {
    await events([opened("a1", T0)]);
    const shown = await quote("a1", { amount: 300_000, termMonths: 6, repayment: "interest_first" });
    expect(shown.statusCode).toBe(200);
    const q = shown.json();
    expect(q.annualRateBps).toBeLessThanOrEqual(DEFAULT_PRICING.ceiling);
    expect(q.rateBasis[0]).toMatch(/^tier [A-E]: \d+ bps$/);
    expect(q.instalments).toHaveLength(6);
    const paid = q.instalments.reduce((t: number, i: { total: number }) => t + i.total, 0);
    expect(paid).toBe(300_000 + q.totalInterest);
    expect(q.totalRepayable).toBe(paid);

    const draw = {
      ...drawdown("a1", "d1", NOW, 300_000),
      data: {
        drawdownId: "d1",
        amount: 300_000,
        purpose: "consumption",
        termMonths: 6,
        repayment: "interest_first",
      },
    };
    expect((await events([draw])).json().accepted).toBe(1);
    const listed = (await inject({ method: "GET", url: "/v1/accounts/a1/drawdowns" })).json().drawdowns;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      amount: 300_000,
      annualRateBps: q.annualRateBps,
      rateBasis: q.rateBasis,
      termMonths: 6,
      repayment: "interest_first",
      totalInterest: q.totalInterest,
      drawnAt: iso(NOW),
    });
    expect(listed[0].instalments).toEqual(q.instalments);

    expect((await verifyLedger(headroom.store)).ok).toBe(true);
    await sql`update drawdowns set rate_bps = 100`.execute(headroom.store.db);
    const report = await verifyLedger(headroom.store);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.problem)).toContain("drawdown a1:d1 was edited after it was sealed");
  });

  it("charges a riskier borrower more, never above the legal ceiling", async () => {
    // A late instalment (now repaid) and a line drawn to the top: the model scores both against b1.
    const risky = [
      opened("b1", T0),
      drawdown("b1", "d1", T0 + DAY, 1_900_000),
      due("b1", "u1", T0 + 2 * DAY, T0 + 10 * DAY, 50_000),
      repaid("b1", "r1", T0 + 50 * DAY, 50_000),
    ];
    await events([opened("a1", T0), ...risky]);
    const terms = { amount: 100_000, termMonths: 12 };
    const clean = (await quote("a1", terms)).json();
    const worse = (await quote("b1", terms)).json();
    // b1's line keeps the rate agreed at its first drawdown; the higher one is announced.
    expect(worse.announced.annualRateBps).toBeGreaterThan(clean.annualRateBps);
    expect(worse.announced.annualRateBps).toBeLessThanOrEqual(DEFAULT_PRICING.ceiling);
  });

  it("answers problem+json for an unknown account and for terms it cannot price", async () => {
    const missing = await quote("nobody", { amount: 100_000 });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
    await events([opened("a1", T0)]);
    const bad = await quote("a1", { amount: 10.5, termMonths: 0 });
    expect(bad.statusCode).toBe(400);
    const pointers = bad.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/body/amount", "/body/termMonths"]));
  });
});
