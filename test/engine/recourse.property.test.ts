import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DecisionInput, decide, type LineStatus } from "../../src/engine/decide.ts";
import { type CreditEvent, REGIONS } from "../../src/engine/events.ts";
import {
  applyEvent,
  emptyFeatureState,
  incomeForAffordability,
  monthlyObligations,
  readFeatures,
} from "../../src/engine/features.ts";
import { computeRecourse, recourseBase } from "../../src/engine/recourse.ts";
import { MS_PER_DAY } from "../../src/engine/time.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import { due, inquiry, iso, opened, repaid } from "../support/events.ts";
import { follow } from "../support/recourse.ts";

const engine = activeEngine();
const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 200 * MS_PER_DAY;
const ACCOUNT = "acc-p";

/** One account's history: instalments (some paid, some not), inquiries, other loans, an income proof. */
const history = fc.record({
  declaredIncome: fc.integer({ min: 150_000, max: 5_000_000 }),
  verifiedIncome: fc.option(fc.integer({ min: 150_000, max: 5_000_000 }), { nil: null }),
  limit: fc.integer({ min: 1_000, max: 100_000 }).map((yuan) => yuan * 100),
  used: fc.double({ min: 0, max: 1, noNaN: true }),
  status: fc.constantFrom<LineStatus>("ACTIVE", "FROZEN"),
  region: fc.constantFrom(...REGIONS),
  // Monthly instalments from day 30: due in the past (paid or not) and in the next months.
  dues: fc.array(fc.record({ amount: fc.integer({ min: 1_000, max: 300_000 }), paid: fc.boolean() }), {
    maxLength: 10,
  }),
  inquiries: fc.array(fc.integer({ min: 0, max: 199 }), { maxLength: 8 }),
  lenders: fc.array(
    fc.record({ day: fc.integer({ min: 0, max: 199 }), payment: fc.integer({ min: 0, max: 800_000 }) }),
    {
      maxLength: 6,
    },
  ),
});

type History = typeof history extends fc.Arbitrary<infer H> ? H : never;

function events(h: History): { event: CreditEvent; at: number }[] {
  const day = (d: number) => T0 + d * MS_PER_DAY;
  const out: { event: CreditEvent; at: number }[] = [
    {
      at: T0,
      event: opened(ACCOUNT, T0, { declaredMonthlyIncome: h.declaredIncome, initialLimit: h.limit }),
    },
  ];
  for (const [i, d] of h.dues.entries()) {
    const dueAt = day(30 * (i + 1));
    const announced = dueAt - 10 * MS_PER_DAY;
    if (announced > NOW) break;
    out.push({ at: announced, event: due(ACCOUNT, `d${i}`, announced, dueAt, d.amount) });
    if (d.paid && dueAt <= NOW)
      out.push({ at: dueAt, event: repaid(ACCOUNT, `p${i}`, dueAt, d.amount, `d${i}-due`) });
  }
  for (const [i, d] of h.inquiries.entries())
    out.push({ at: day(d), event: inquiry(ACCOUNT, `i${i}`, day(d)) });
  for (const [i, l] of h.lenders.entries())
    out.push({
      at: day(l.day),
      event: {
        id: `l${i}`,
        accountId: ACCOUNT,
        type: "external_loan_opened",
        occurredAt: iso(day(l.day)),
        data: { lender: `lender-${i}`, amount: 12 * l.payment, monthlyPayment: l.payment },
      },
    });
  if (h.verifiedIncome !== null)
    out.push({
      at: day(100),
      event: {
        id: "v",
        accountId: ACCOUNT,
        type: "income_verified",
        occurredAt: iso(day(100)),
        data: { monthlyIncome: h.verifiedIncome, source: "payslip" },
      },
    });
  return out.sort((a, b) => a.at - b.at);
}

describe("recourse on generated adverse decisions", () => {
  it("promises exactly what decide() gives when the borrower follows the steps", () => {
    let adverse = 0;
    fc.assert(
      fc.property(history, (h) => {
        const state = emptyFeatureState(T0, h.declaredIncome);
        for (const { event, at } of events(h)) applyEvent(state, event, at);
        const balance = Math.floor(h.limit * h.used);
        const income = incomeForAffordability(state);
        const input: DecisionInput = {
          accountId: ACCOUNT,
          line: {
            status: h.status,
            limit: h.limit,
            balance,
            lastChangeAt: null,
            highestLimit30d: h.limit,
            pendingAction: null,
          },
          features: readFeatures(state, { limit: h.limit, balance }, NOW),
          region: h.region,
          affordability: {
            income: income.income,
            verified: income.verified,
            obligations: monthlyObligations(state),
          },
          optOutAutomated: false,
          trigger: { kind: "review", runId: "property" },
        };
        const decision = decide(input, engine, NOW);
        if (!decision.adverse) return;
        adverse++;
        const recourse = computeRecourse(input, decision, state, engine);
        if (!recourse.available) return;
        const { goal, base } = recourseBase(input, decision);
        const after = decide(follow(base, state, recourse, NOW), engine, recourse.by);
        expect(goal === "keep" ? !after.adverse : after.action === "reopen", recourse.en).toBe(true);
        expect(after.toLimit, recourse.en).toBe(recourse.outcome?.limit);
      }),
      { numRuns: 400 },
    );
    // The generator must reach adverse decisions, or the property says nothing.
    expect(adverse).toBeGreaterThan(40);
  });
});
