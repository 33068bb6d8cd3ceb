import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FEATURE_NAMES, type Features } from "../../src/engine/features.ts";
import { compileModel } from "../../src/engine/model.ts";
import { stressedScorer } from "../../src/engine/stress.ts";
import { defaultModelArtifact } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { compareStressResponses, type StressRequest } from "../../src/services/stressTest.ts";
import { due, fraud, lenderOpened, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const AS_OF = T0 + 150 * DAY;

describe("stressed scorer", () => {
  const model = defaultModelArtifact().model;
  const base = compileModel(model);
  const features = fc.record(
    Object.fromEntries(FEATURE_NAMES.map((n) => [n, fc.double({ min: 0, max: 60, noNaN: true })])) as Record<
      keyof Features,
      fc.Arbitrary<number>
    >,
  );

  it("multiplies the PD (capped), keeps the points, and maps the score back on the model's scale", () => {
    fc.assert(
      fc.property(features, fc.double({ min: 1, max: 20, noNaN: true }), (f, m) => {
        const calm = base(f);
        const same = stressedScorer(model, 1)(f);
        const stressed = stressedScorer(model, m)(f);
        expect(same.pd).toBeCloseTo(calm.pd, 12);
        expect(Math.abs(same.score - calm.score)).toBeLessThanOrEqual(1);
        expect(stressed.pd).toBeCloseTo(Math.min(0.999, calm.pd * m), 12);
        expect(stressed.score).toBeLessThanOrEqual(same.score);
        expect(stressed.contributions).toEqual(calm.contributions);
      }),
    );
  });
});

for (const { target, skip } of await storeTargets("the stress suite")) {
  describe.skipIf(skip)(`stress responses on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    beforeEach(async () => {
      headroom = await target.open(manualClock(AS_OF).now);
      // 40 lines in east and west: some late by 0-39 days, some borrowing from new lenders;
      // x07 is closed for fraud, so it is out of the open book the stress looks at.
      const events = Array.from({ length: 40 }, (_, i) => {
        const id = `x${String(i).padStart(2, "0")}`;
        const history = [
          opened(id, T0, {
            borrowerId: `xb${i}`,
            region: i % 2 === 0 ? "east" : "west",
            initialLimit: 1_000_000 + i * 100_000,
          }),
          due(id, `xu${i}`, T0 + DAY, AS_OF - i * DAY, 80_000 + i * 5_000),
        ];
        if (i % 3 === 0) history.push(lenderOpened(id, `xl${i}`, T0 + 100 * DAY, `lender-${i}`));
        return history;
      }).flat();
      await ingestEvents(
        headroom,
        events.filter((e) => e.type === "account_opened"),
      );
      await ingestEvents(headroom, [
        ...events.filter((e) => e.type !== "account_opened"),
        fraud("x07", "xf", T0 + 120 * DAY),
      ]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const run = (over: Partial<StressRequest>) =>
      compareStressResponses(headroom.store, headroom.engine, {
        pdMultiplier: 1.5,
        relief: { kind: "payment_holiday", months: 3 },
        asOf: AS_OF,
        ...over,
      });

    it("answers the same stress two ways: no takers means the same book; all takers keep every credit cut off", async () => {
      const none = await run({ acceptance: 0 });
      expect(none.total.stressCuts).toBeGreaterThan(0);
      for (const g of [none.total, ...Object.values(none.byRegion)])
        expect(g.offerRelief).toEqual(g.cutLines);

      const all = await run({ acceptance: 1 });
      expect(all.acceptance).toMatchObject({ rate: 1, source: "given" });
      // Every credit cut becomes relief (misconduct cuts would stand, but this book has none left open).
      expect(all.total.cutLines.borrowersCut - all.total.offerRelief.borrowersCut).toBe(all.total.stressCuts);
      expect(all.total.offerRelief.exposure).toBeGreaterThanOrEqual(all.total.cutLines.exposure);
      // Keeping the line keeps its exposure. (Kept-current counts move with the model's debt-to-income
      // bins, which in the shipped scorecard are not monotone, so no direction is asserted.)
      expect(all.total.offerRelief.keptCurrent).toBeGreaterThan(0);
      expect(all.assumptions.length).toBeGreaterThan(4);
      expect(all.acceptance.answeredOffers).toBe(0);
      expect(all.total.accounts).toBe(39);
      expect((await run({})).acceptance).toMatchObject({ rate: 0.5, source: "assumed" });
    });

    it("stresses one region only, and a harder stress cuts at least as many with more expected loss", async () => {
      const east = await run({ region: "east", acceptance: 0.5 });
      expect(Object.keys(east.byRegion)).toEqual(["east"]);
      expect(east.total.accounts).toBe(20);
      const mild = await run({ pdMultiplier: 1 });
      const harsh = await run({ pdMultiplier: 3 });
      expect(harsh.total.stressCuts).toBeGreaterThanOrEqual(mild.total.stressCuts);
      expect(harsh.total.cutLines.expectedLoss).toBeGreaterThan(mild.total.cutLines.expectedLoss);
      expect(harsh.unstressed).toEqual(mild.unstressed);
    });
  });
}
