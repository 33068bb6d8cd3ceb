import type { FeatureBinning } from "./binning.ts";

export interface ScorecardFeature {
  name: string;
  /** Column of the training data set. */
  column: number;
  levels: string[] | null;
  coefficient: number;
  binning: FeatureBinning;
  /** Points per bin, in the binning's bin order. */
  points: number[];
}

/** A trained scorecard: base score plus the points of each feature's bin; higher is better. */
export interface Scorecard {
  version: string;
  intercept: number;
  baseScore: number;
  scaling: { score: number; odds: number; pdo: number };
  features: ScorecardFeature[];
}

/**
 * The bin of any value of one feature, as flat arrays: sorted range bounds, special values and the
 * missing bin, or a category-code table. Built once; looking a value up allocates nothing.
 */
export interface BinIndexTable {
  indexOf(value: number): number;
}

export function binIndexTable(binning: FeatureBinning, levels: string[] | null): BinIndexTable {
  const bins = binning.bins;
  const missing = bins.findIndex((b) => b.bin.kind === "missing");
  if (binning.type === "categorical") {
    const byCode = new Int32Array((levels ?? []).length).fill(-1);
    bins.forEach((b, i) => {
      if (b.bin.kind !== "categories") return;
      for (const v of b.bin.values) {
        const code = (levels ?? []).indexOf(v);
        if (code >= 0) byCode[code] = i;
      }
    });
    return { indexOf: (code) => (Number.isNaN(code) ? missing : (byCode[code] ?? -1)) };
  }
  const ranges = bins.flatMap((b, i) => (b.bin.kind === "range" ? [{ upper: b.bin.upper, i }] : []));
  const uppers = Float64Array.from(ranges.map((r) => r.upper));
  const rangeIndex = Int32Array.from(ranges.map((r) => r.i));
  const specials = bins.flatMap((b, i) => (b.bin.kind === "special" ? [{ value: b.bin.value, i }] : []));
  const specialValues = Float64Array.from(specials.map((s) => s.value));
  const specialIndex = Int32Array.from(specials.map((s) => s.i));
  return {
    indexOf(value) {
      if (Number.isNaN(value)) return missing;
      for (let s = 0; s < specialValues.length; s++)
        if (specialValues[s] === value) return specialIndex[s] as number;
      let lo = 0;
      let hi = uppers.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (value < (uppers[mid] as number)) hi = mid;
        else lo = mid + 1;
      }
      return rangeIndex[lo] as number;
    },
  };
}

export interface CompiledScorecard {
  /** Score of row `r` of column-major data (columns as in training). Allocation-free. */
  score(columns: readonly Float64Array[], r: number): number;
  /** Probability of bad for a score. */
  pd(score: number): number;
  /** Points earned by each feature for row `r`, written into `out` (length = features). */
  points(columns: readonly Float64Array[], r: number, out: Float64Array): void;
  maxPoints: Float64Array;
}

export function compileScorecard(card: Scorecard): CompiledScorecard {
  const tables = card.features.map((f) => binIndexTable(f.binning, f.levels));
  const points = card.features.map((f) => Float64Array.from(f.points));
  const columnOf = Int32Array.from(card.features.map((f) => f.column));
  const maxPoints = Float64Array.from(card.features.map((f) => Math.max(...f.points)));
  const factor = card.scaling.pdo / Math.LN2;
  const offset = card.scaling.score - factor * Math.log(card.scaling.odds);
  const n = card.features.length;
  const pointsOf = (k: number, value: number) => {
    const bin = (tables[k] as BinIndexTable).indexOf(value);
    // A value no bin covers (an unseen category) earns the neutral zero points.
    return bin < 0 ? 0 : ((points[k] as Float64Array)[bin] as number);
  };
  return {
    score(columns, r) {
      let s = card.baseScore;
      for (let k = 0; k < n; k++)
        s += pointsOf(k, (columns[columnOf[k] as number] as Float64Array)[r] as number);
      return s;
    },
    pd: (score) => 1 / (1 + Math.exp((score - offset) / factor)),
    points(columns, r, out) {
      for (let k = 0; k < n; k++)
        out[k] = pointsOf(k, (columns[columnOf[k] as number] as Float64Array)[r] as number);
    },
    maxPoints,
  };
}

export interface ReasonCode {
  feature: string;
  points: number;
  maxPoints: number;
  /** Points lost against the feature's best bin. */
  shortfall: number;
}

/** Features that cost the borrower points, most points lost first, at most `limit`. */
export function reasonCodes(
  card: Scorecard,
  earned: Float64Array,
  maxPoints: Float64Array,
  limit = 4,
): ReasonCode[] {
  return card.features
    .map((f, k) => ({
      feature: f.name,
      points: earned[k] as number,
      maxPoints: maxPoints[k] as number,
      shortfall: (maxPoints[k] as number) - (earned[k] as number),
    }))
    .filter((r) => r.shortfall > 1e-9)
    .sort((a, b) => b.shortfall - a.shortfall)
    .slice(0, limit);
}
