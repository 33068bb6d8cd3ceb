import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/engine/random.ts";
import type { Dataset } from "../../src/engine/scorecard/dataset.ts";
import { fitLogistic } from "../../src/engine/scorecard/logistic.ts";
import { auc, ks, psi } from "../../src/engine/scorecard/metrics.ts";
import { compileScorecard, reasonCodes } from "../../src/engine/scorecard/scorecard.ts";
import { DEFAULT_TRAINING, trainScorecard } from "../../src/engine/scorecard/train.ts";

/** Rows drawn from a known logistic model, so the fit has a true answer to find. */
function synthetic(rows: number, seed: number) {
  const random = seededRandom(seed);
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    a[r] = random.next() * 4 - 2;
    b[r] = random.next() * 4 - 2;
    const p = 1 / (1 + Math.exp(-(-1 + 1.5 * (a[r] as number) - 0.8 * (b[r] as number))));
    y[r] = random.next() < p ? 1 : 0;
  }
  return { a, b, y };
}

describe("logistic regression and scorecards", () => {
  it("recovers known coefficients and says it converged", () => {
    const { a, b, y } = synthetic(40_000, 7);
    const x = new Float64Array(a.length * 2);
    for (let r = 0; r < a.length; r++) {
      x[2 * r] = a[r] as number;
      x[2 * r + 1] = b[r] as number;
    }
    const fit = fitLogistic(x, a.length, 2, y, { l2: 0, maxIterations: 50, tolerance: 1e-10 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(-1, 1);
    expect(fit.coefficients[0]).toBeCloseTo(1.5, 1);
    expect(fit.coefficients[1]).toBeCloseTo(-0.8, 1);
  });

  it("ranks reason codes by exactly the points each feature lost", () => {
    const { a, b, y } = synthetic(20_000, 11);
    const data: Dataset = { names: ["a", "b"], columns: [a, b], levels: [null, null], target: y };
    const { scorecard } = trainScorecard(data, "t", DEFAULT_TRAINING);
    const compiled = compileScorecard(scorecard);
    const earned = new Float64Array(scorecard.features.length);
    for (let r = 0; r < 200; r++) {
      compiled.points(data.columns, r, earned);
      const codes = reasonCodes(scorecard, earned, compiled.maxPoints);
      const lost = scorecard.features
        .map((f, k) => ({ f: f.name, lost: (compiled.maxPoints[k] as number) - (earned[k] as number) }))
        .filter((l) => l.lost > 1e-9)
        .sort((p, q) => q.lost - p.lost);
      expect(codes.map((c) => c.feature)).toEqual(lost.map((l) => l.f));
      const total = scorecard.baseScore + earned.reduce((s, p) => s + p, 0);
      expect(compiled.score(data.columns, r)).toBeCloseTo(total, 9);
    }
  });

  it("scores the risky side of each feature lower, and separates goods from bads", () => {
    const { a, b, y } = synthetic(20_000, 13);
    const data: Dataset = { names: ["a", "b"], columns: [a, b], levels: [null, null], target: y };
    const { scorecard } = trainScorecard(data, "t", DEFAULT_TRAINING);
    const compiled = compileScorecard(scorecard);
    const scores = Float64Array.from({ length: y.length }, (_, r) => compiled.score(data.columns, r));
    expect(auc(scores, y)).toBeGreaterThan(0.75);
    expect(ks(scores, y)).toBeGreaterThan(0.35);
    // Higher `a` means more bads: a borrower with a = 1.9 scores below one with a = -1.9.
    const probe: Float64Array[] = [Float64Array.of(1.9, -1.9), Float64Array.of(0, 0)];
    expect(compiled.score(probe, 0)).toBeLessThan(compiled.score(probe, 1));
    expect(compiled.pd(compiled.score(probe, 0))).toBeGreaterThan(compiled.pd(compiled.score(probe, 1)));
  });

  it("computes AUC, KS and PSI on known cases", () => {
    expect(auc([1, 2, 3, 4], [1, 1, 0, 0])).toBe(1);
    expect(auc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(0);
    expect(auc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    expect(ks([1, 2, 3, 4], [1, 1, 0, 0])).toBe(1);
    expect(psi([10, 20, 70], [10, 20, 70]).psi).toBe(0);
    expect(psi([30, 30, 40], [10, 20, 70]).band).toBe("shifted");
    expect(psi([30, 30, 40], [28, 31, 41]).band).toBe("stable");
  });
});
