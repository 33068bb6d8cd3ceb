import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_PRICING, type PricingPolicy, priceRate, pricingFor } from "../../src/engine/pricing/rate.ts";
import {
  addMonths,
  buildSchedule,
  MAX_TERM_MONTHS,
  monthlyInterest,
} from "../../src/engine/pricing/schedule.ts";

const drawnAt = Date.UTC(2026, 0, 31, 9, 30);
const terms = fc.record({
  principal: fc.integer({ min: 1, max: 20_000_000 }),
  annualRate: fc.integer({ min: 0, max: 3600 }),
  months: fc.integer({ min: 1, max: MAX_TERM_MONTHS }),
  method: fc.constantFrom("equal_instalment" as const, "interest_first" as const),
  drawnAt: fc.constant(drawnAt),
});

describe("repayment schedules", () => {
  it("instalments sum exactly to principal plus interest, in fen, and repay the whole principal", () => {
    fc.assert(
      fc.property(terms, (t) => {
        const s = buildSchedule(t);
        const sum = s.instalments.reduce((n, i) => n + i.total, 0);
        expect(sum).toBe(t.principal + s.totalInterest);
        expect(s.instalments.reduce((n, i) => n + i.principal, 0)).toBe(t.principal);
        expect(s.instalments.at(-1)?.balanceAfter).toBe(0);
        for (const i of s.instalments) {
          expect(Number.isSafeInteger(i.total) && i.principal >= 0 && i.interest >= 0).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("charges each month's interest on the balance still owed", () => {
    const s = buildSchedule({
      principal: 1_200_000,
      annualRate: 1800,
      months: 12,
      method: "equal_instalment",
      drawnAt,
    });
    let balance = 1_200_000;
    for (const i of s.instalments) {
      expect(i.interest).toBe(monthlyInterest(balance, 1800));
      balance -= i.principal;
    }
    // A level payment: every instalment but the last within a fen of the first.
    const first = s.instalments[0]?.total as number;
    for (const i of s.instalments.slice(0, -1)) expect(Math.abs(i.total - first)).toBeLessThanOrEqual(1);
    // 12,000 yuan at 18% over a year: level payment 1,100.15 yuan, interest 1,201.8 yuan.
    // Rounding each month to the fen moves the total by at most a couple of fen per instalment.
    expect(Math.abs(s.totalInterest - 120_180)).toBeLessThanOrEqual(24);
    expect(s.effectiveAnnualRate).toBeCloseTo(0.1956, 3);
  });

  it("interest-first pays interest monthly and the principal at the end", () => {
    const s = buildSchedule({
      principal: 500_000,
      annualRate: 2400,
      months: 6,
      method: "interest_first",
      drawnAt,
    });
    expect(s.instalments.slice(0, -1).every((i) => i.principal === 0 && i.interest === 10_000)).toBe(true);
    expect(s.instalments.at(-1)).toMatchObject({ principal: 500_000, interest: 10_000, total: 510_000 });
  });

  it("falls due on the same day each month, or the month's last day when it is shorter", () => {
    const s = buildSchedule({
      principal: 100_000,
      annualRate: 1200,
      months: 3,
      method: "equal_instalment",
      drawnAt,
    });
    expect(s.instalments.map((i) => new Date(i.dueAt).toISOString())).toEqual([
      "2026-02-28T09:30:00.000Z",
      "2026-03-31T09:30:00.000Z",
      "2026-04-30T09:30:00.000Z",
    ]);
    expect(addMonths(Date.UTC(2024, 0, 31), 1)).toBe(Date.UTC(2024, 1, 29));
  });

  it("adds months as the calendar does, for any instant from 1900 to 2199 and any count", () => {
    // The calendar as Date keeps it: same day and time of day, clamped to the month's last day.
    const byCalendar = (at: number, months: number) => {
      const d = new Date(at);
      const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
      const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
      const timeOfDay = at - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return (
        Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d.getUTCDate(), last)) + timeOfDay
      );
    };
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2199, 11, 31, 23, 59, 59, 999) }),
        fc.integer({ min: -1200, max: 1200 }),
        (at, months) => {
          expect(addMonths(at, months)).toBe(byCalendar(at, months));
        },
      ),
      { numRuns: 20_000 },
    );
    expect(addMonths(Date.UTC(2100, 0, 29, 12), 1)).toBe(Date.UTC(2100, 1, 28, 12));
    expect(addMonths(Date.UTC(2000, 2, 31), -1)).toBe(Date.UTC(2000, 1, 29));
  });

  it("refuses terms it cannot schedule", () => {
    const base = {
      principal: 100_000,
      annualRate: 1200,
      months: 3,
      method: "equal_instalment" as const,
      drawnAt,
    };
    expect(() => buildSchedule({ ...base, principal: 10.5 })).toThrow(/fen/);
    expect(() => buildSchedule({ ...base, months: 0 })).toThrow(/term/);
    expect(() => buildSchedule({ ...base, annualRate: 12.5 })).toThrow(/basis points/);
  });
});

describe("risk-based pricing", () => {
  const policy = fc.record({
    product: fc.constant("p"),
    floor: fc.integer({ min: 0, max: 2400 }),
    ceiling: fc.integer({ min: 0, max: 2400 }),
    tierRates: fc.record({ A: fc.integer({ min: 0, max: 10_000 }), B: fc.integer({ min: 0, max: 10_000 }) }),
    adjustments: fc.array(
      fc.record({
        id: fc.string({ minLength: 1 }),
        description: fc.string(),
        when: fc.array(
          fc.record({
            fact: fc.constantFrom("dpd" as const, "monthsOnBook" as const, "score" as const),
            op: fc.constantFrom(">=" as const, "<" as const, "==" as const),
            value: fc.integer({ min: 0, max: 900 }),
          }),
          { maxLength: 3 },
        ),
        delta: fc.integer({ min: -5000, max: 5000 }),
      }),
      { maxLength: 6 },
    ),
  });
  const facts = fc.record({
    dpd: fc.integer({ min: 0, max: 120 }),
    monthsOnBook: fc.integer({ min: 0, max: 120 }),
    score: fc.integer({ min: 300, max: 900 }),
  });

  it("never prices above the legal ceiling or below the floor, whatever the policy says", () => {
    fc.assert(
      fc.property(policy, facts, fc.constantFrom("A", "B"), (p, f, tier) => {
        // The product sets the bounds; the policy version sets the rates (pricingFor).
        const product: PricingPolicy = {
          ...DEFAULT_PRICING,
          floor: p.floor,
          ceiling: Math.max(p.floor, p.ceiling),
        };
        const priced = priceRate(pricingFor(product, { pricing: p }), tier, f);
        expect(priced.rate).toBeLessThanOrEqual(product.ceiling);
        expect(priced.rate).toBeGreaterThanOrEqual(product.floor);
        expect(Number.isInteger(priced.rate)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("prices with the policy version's rates, inside the product's bounds", () => {
    const policyRates = { tierRates: { A: 900, B: 5000 }, adjustments: [] };
    const pricing = pricingFor(DEFAULT_PRICING, { pricing: policyRates });
    expect(priceRate(pricing, "A", {}).rate).toBe(900);
    expect(priceRate(pricing, "B", {})).toEqual({
      rate: DEFAULT_PRICING.ceiling,
      basis: ["tier B: 5000 bps", `capped at the legal ceiling of ${DEFAULT_PRICING.ceiling} bps`],
    });
    expect(pricingFor(DEFAULT_PRICING, {})).toBe(DEFAULT_PRICING);
  });

  it("says why: the tier's base and each adjustment that applied", () => {
    const priced = priceRate(DEFAULT_PRICING, "B", { overdueCount12m: 0, monthsOnBook: 30 });
    expect(priced.rate).toBe(1440 - 120 - 60);
    expect(priced.basis).toEqual([
      "tier B: 1440 bps",
      "clean-record (no late repayment in 12 months): -120 bps",
      "long-relationship (two years or more on book): -60 bps",
    ]);
    expect(priceRate(DEFAULT_PRICING, "E", { overdueCount12m: 3, monthsOnBook: 1 }).rate).toBe(2400);
  });
});
