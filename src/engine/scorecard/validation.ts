import type { Dataset } from "./dataset.ts";
import { auc, gini, ks } from "./metrics.ts";
import { compileScorecard, type Scorecard } from "./scorecard.ts";

export interface ValidationReport {
  rows: number;
  bads: number;
  auc: number;
  ks: number;
  gini: number;
  /** Predicted against observed bad rate by score decile: how well the PDs are calibrated. */
  calibration: {
    fromScore: number;
    toScore: number;
    rows: number;
    predictedPd: number;
    observedBadRate: number;
  }[];
  /** Score decile bounds and counts on this set: the baseline live scores are compared with (PSI). */
  scoreBaseline: { bounds: number[]; counts: number[] };
}

const DECILES = 10;

export function validateScorecard(card: Scorecard, data: Dataset): ValidationReport {
  const compiled = compileScorecard(card);
  const n = data.target.length;
  const scores = Float64Array.from({ length: n }, (_, r) => compiled.score(data.columns, r));
  const a = auc(scores, data.target);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (scores[x] as number) - (scores[y] as number),
  );
  const calibration: ValidationReport["calibration"] = [];
  const bounds: number[] = [];
  for (let d = 0; d < DECILES; d++) {
    const from = Math.floor((d * n) / DECILES);
    const to = Math.floor(((d + 1) * n) / DECILES);
    if (to <= from) continue;
    let pd = 0;
    let bads = 0;
    for (let i = from; i < to; i++) {
      const r = order[i] as number;
      pd += compiled.pd(scores[r] as number);
      bads += data.target[r] as number;
    }
    const low = scores[order[from] as number] as number;
    const high = scores[order[to - 1] as number] as number;
    calibration.push({
      fromScore: low,
      toScore: high,
      rows: to - from,
      predictedPd: pd / (to - from),
      observedBadRate: bads / (to - from),
    });
    if (d > 0) bounds.push(low);
  }
  return {
    rows: n,
    bads: data.target.reduce((t, v) => t + v, 0),
    auc: a,
    ks: ks(scores, data.target),
    gini: gini(a),
    calibration,
    scoreBaseline: { bounds, counts: countInBins(Array.from(scores), bounds) },
  };
}

/** Counts of scores in the bins `bounds` cut the line into (bins.length = bounds.length + 1). */
export function countInBins(scores: readonly number[], bounds: readonly number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const s of scores) {
    let b = 0;
    while (b < bounds.length && s >= (bounds[b] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}
