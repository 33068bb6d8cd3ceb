import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  binCategorical,
  binIndexOf,
  binNumeric,
  DEFAULT_BINNING,
  type Trend,
} from "../../src/engine/scorecard/binning.ts";
import { binIndexTable } from "../../src/engine/scorecard/scorecard.ts";

const rows = fc
  .array(
    fc.record({
      value: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -50, max: 50 }).map((v) => v / 2) },
        { weight: 1, arbitrary: fc.constantFrom(-9, -8, 96) },
        { weight: 1, arbitrary: fc.constant(Number.NaN) },
      ),
      bad: fc.integer({ min: 0, max: 1 }),
    }),
    { minLength: 40, maxLength: 400 },
  )
  .filter((r) => r.some((x) => x.bad === 1) && r.some((x) => x.bad === 0));

const options = (trend: Trend) => ({
  ...DEFAULT_BINNING,
  maxPrebins: 12,
  minBinShare: 0.05,
  minBinRows: 3,
  trend,
  specialValues: [-9, -8, 96],
});

describe("optimal binning", () => {
  it("puts every row in exactly one bin, and the bins' counts add up to the rows", () => {
    fc.assert(
      fc.property(rows, fc.constantFrom<Trend>("auto", "ascending", "descending"), (data, trend) => {
        const values = Float64Array.from(data, (d) => d.value);
        const target = Uint8Array.from(data, (d) => d.bad);
        const binning = binNumeric("x", values, target, options(trend));
        const counts = new Array(binning.bins.length).fill(0);
        const table = binIndexTable(binning, null);
        for (const v of values) {
          const matching = binning.bins.filter((_, i) => binIndexOf(binning, v) === i);
          expect(matching.length).toBe(1);
          expect(table.indexOf(v)).toBe(binIndexOf(binning, v));
          counts[binIndexOf(binning, v)]++;
        }
        expect(counts).toEqual(binning.bins.map((b) => b.count));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps special values and missing values in bins of their own", () => {
    fc.assert(
      fc.property(rows, (data) => {
        const values = Float64Array.from(data, (d) => d.value);
        const binning = binNumeric(
          "x",
          values,
          Uint8Array.from(data, (d) => d.bad),
          options("auto"),
        );
        for (const special of [-9, -8, 96]) {
          const present = data.filter((d) => d.value === special).length;
          const bin = binning.bins.find((b) => b.bin.kind === "special" && b.bin.value === special);
          expect(bin?.count ?? 0).toBe(present);
        }
        const missing = binning.bins.find((b) => b.bin.kind === "missing");
        expect(missing?.count).toBe(data.filter((d) => Number.isNaN(d.value)).length);
        // No range bin holds a special or missing value.
        const ranges = binning.bins.filter((b) => b.bin.kind === "range");
        expect(ranges.reduce((t, b) => t + b.count, 0)).toBe(
          data.filter((d) => !Number.isNaN(d.value) && ![-9, -8, 96].includes(d.value)).length,
        );
      }),
      { numRuns: 300 },
    );
  });

  it("makes WoE monotonic over the ranges when a trend is asked for", () => {
    fc.assert(
      fc.property(
        rows,
        fc.constantFrom<"ascending" | "descending">("ascending", "descending"),
        (data, trend) => {
          const binning = binNumeric(
            "x",
            Float64Array.from(data, (d) => d.value),
            Uint8Array.from(data, (d) => d.bad),
            options(trend),
          );
          const woe = binning.bins.filter((b) => b.bin.kind === "range").map((b) => b.woe);
          for (let i = 1; i < woe.length; i++) {
            // Ascending bad rate means falling WoE (WoE is positive for good).
            if (trend === "ascending") expect(woe[i]).toBeLessThan(woe[i - 1] as number);
            else expect(woe[i]).toBeGreaterThan(woe[i - 1] as number);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("finds the risk trend of a clearly risky feature and its information value", () => {
    const n = 2000;
    const values = Float64Array.from({ length: n }, (_, i) => i % 100);
    const target = Uint8Array.from(values, (v, i) => ((i * 7919) % 100 < v ? 1 : 0));
    const binning = binNumeric("utilisation", values, target, { ...DEFAULT_BINNING, minBinShare: 0.05 });
    expect(binning.trend).toBe("ascending");
    expect(binning.iv).toBeGreaterThan(0.5);
    expect(binning.bins.filter((b) => b.bin.kind === "range").length).toBeGreaterThan(3);
  });

  it("pools small categories with the neighbour closest in bad rate", () => {
    const values = [...Array(50).fill("A"), ...Array(50).fill("B"), "C", "C"];
    const target = Uint8Array.from(values, (v, i) =>
      v === "A" ? (i % 10 === 0 ? 1 : 0) : v === "B" ? i % 2 : 1,
    );
    const binning = binCategorical("purpose", values, target, {
      ...DEFAULT_BINNING,
      minBinShare: 0.05,
      minBinRows: 3,
    });
    expect(binning.bins.map((b) => b.bin.kind === "categories" && b.bin.values)).toEqual([["A"], ["B", "C"]]);
    expect(binning.bins.reduce((t, b) => t + b.count, 0)).toBe(values.length);
  });
});
