import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { decodeFeatureState, encodeFeatureState } from "../../src/engine/featureStateCodec.ts";
import { applyEvent, emptyFeatureState, type FeatureState, readFeatures } from "../../src/engine/features.ts";
import { drawdown, due, inquiry, lenderOpened, repaid } from "../support/events.ts";

// Times as events carry them: whole seconds mostly, some with milliseconds, some far from now.
const time = fc.oneof(
  fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }).map((s) => s * 1000),
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }),
);
const fen = fc.integer({ min: 0, max: 2 ** 40 });
const times = fc.array(time, { maxLength: 64 });

const state: fc.Arbitrary<FeatureState> = fc
  .record(
    {
      openedAt: time,
      declaredIncome: fen,
      verifiedIncome: fc.option(fen),
      previousVerifiedIncome: fc.option(fen),
      lastDueAmount: fen,
      openDues: fc.array(
        fc.record({ id: fc.string(), dueAt: time, remaining: fen }, { noNullPrototype: true }),
        { maxLength: 36 },
      ),
      lateDueDates: times,
      inquiries: times,
      lenders: fc.dictionary(
        fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom("__proto__", "toString", "constructor")),
        fc.record({ openedAt: time, monthlyPayment: fen }, { noNullPrototype: true }),
        { maxKeys: 64, noNullPrototype: true },
      ),
      lenderOpenings: times,
      loginAnomalies: times,
      prohibitedUses: times,
      fraudAt: fc.option(time),
      lastEventAt: time,
      deferrals: fc.array(
        fc.record({ from: time, until: time, programId: fc.string() }, { noNullPrototype: true }),
        { maxLength: 8 },
      ),
    },
    { noNullPrototype: true },
  )
  .chain((s) =>
    fc.boolean().map((hadHoliday) => {
      if (hadHoliday) return s;
      const { deferrals: _, ...without } = s;
      return without;
    }),
  );

describe("stored feature state", () => {
  it("reads back exactly as it was written, every field and time to the millisecond", () => {
    fc.assert(
      fc.property(state, (s) => {
        const back = decodeFeatureState(encodeFeatureState(s));
        // As text: every field, value and key order, and no field added (toStrictEqual reads a
        // lender named "constructor" as the object's type).
        expect(JSON.stringify(back)).toBe(JSON.stringify(s));
        expect(Object.hasOwn(back, "deferrals")).toBe(Object.hasOwn(s, "deferrals"));
      }),
      { numRuns: 500 },
    );
  });

  it("carries every field of a state the engine built, milliseconds included", () => {
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 0, 5, 9, 30, 0, 250);
    const s = emptyFeatureState(t0, 800_000);
    const events = [
      inquiry("a", "i1", t0 + day),
      lenderOpened("a", "l1", t0 + 2 * day, "other-bank"),
      due("a", "d1", t0 + 3 * day, t0 + 27 * day, 50_000),
      drawdown("a", "w1", t0 + 4 * day + 1, 100_000),
      repaid("a", "r1", t0 + 40 * day, 20_000, "d1-due"),
    ];
    for (const e of events) applyEvent(s, e, Date.parse(e.occurredAt), new Set());
    expect(s.inquiries.length + s.openDues.length + Object.keys(s.lenders).length).toBeGreaterThan(2);
    expect(decodeFeatureState(encodeFeatureState(s))).toStrictEqual(s);
  });

  it("keeps a lender whatever the bureau calls it, __proto__ and toString included", () => {
    const t0 = Date.UTC(2026, 0, 5);
    const s = emptyFeatureState(t0, 800_000);
    const names = ["__proto__", "toString", "constructor", "bank"];
    names.forEach((name, i) => {
      const e = lenderOpened("a", `l${i}`, t0 + i * 1000, name);
      applyEvent(s, e, Date.parse(e.occurredAt), new Set());
    });
    expect(Object.keys(s.lenders)).toEqual(names);
    expect(readFeatures(s, { limit: 1_000_000, balance: 0 }, t0 + 10_000).otherLenders).toBe(4);
    expect(Object.keys(decodeFeatureState(encodeFeatureState(s)).lenders)).toEqual(names);
    const closed: CreditEvent = {
      id: "c1",
      accountId: "a",
      type: "external_loan_closed",
      occurredAt: new Date(t0 + 20_000).toISOString(),
      data: { lender: "__proto__" },
    };
    applyEvent(s, closed, Date.parse(closed.occurredAt), new Set());
    expect(Object.keys(s.lenders)).toEqual(["toString", "constructor", "bank"]);
  });

  it("reads state written by earlier versions as a JSON object", () => {
    fc.assert(
      fc.property(state, (s) => {
        expect(JSON.stringify(decodeFeatureState(JSON.stringify(s)))).toBe(JSON.stringify(s));
      }),
      { numRuns: 100 },
    );
  });

  it("is less than half the size of the object form for a busy line", () => {
    const s = emptyFeatureState(Date.UTC(2026, 0, 1), 600_000);
    for (let i = 0; i < 20; i++) {
      s.inquiries.push(Date.UTC(2026, 0, 2 + i));
      s.lenders[`lender_${i}`] = { openedAt: Date.UTC(2026, 1, 1 + i), monthlyPayment: 75_000 };
      s.lenderOpenings.push(Date.UTC(2026, 1, 1 + i));
    }
    expect(encodeFeatureState(s).length * 2).toBeLessThan(JSON.stringify(s).length);
  });

  it("refuses a stored state it does not know", () => {
    expect(() => decodeFeatureState("[9,1,2]")).toThrow(/unknown format/);
    expect(() =>
      decodeFeatureState(JSON.stringify([2, ...Array(14).fill(0), null]).replace("[2,0", "[2,{}")),
    ).toThrow(/a time must be a number or text/);
  });
});
