import type { FeatureName, Features } from "./features.ts";

/**
 * A points model: each feature falls in one band and earns that band's points; the score is their sum.
 * Trained scorecards over the engine's features compile to this shape (scorecard/pointsModel.ts).
 */
export interface PointsBand {
  /** Exclusive upper bound of the band; the last band of a feature has `null` (no bound). */
  below: number | null;
  points: number;
}

export interface PointsModel {
  version: string;
  baseScore: number;
  /** Score at which odds of good:bad equal `baseOdds`, and points to double the odds. */
  scaling: { score: number; odds: number; pdo: number };
  bands: Partial<Record<FeatureName, PointsBand[]>>;
}

export interface ModelScore {
  score: number;
  pd: number;
  /** Points earned and the most that feature could earn, in the model's feature order. */
  contributions: { feature: FeatureName; points: number; maxPoints: number }[];
}

export type Scorer = (features: Features) => ModelScore;

export function compileModel(model: PointsModel): Scorer {
  const entries = Object.entries(model.bands) as [FeatureName, PointsBand[]][];
  const compiled = entries.map(([feature, bands]) => {
    if (bands.length === 0 || bands[bands.length - 1]?.below !== null) {
      throw new Error(`model ${model.version}: feature ${feature} must end with an unbounded band`);
    }
    const bounds = Float64Array.from(bands.map((b) => b.below ?? Number.POSITIVE_INFINITY));
    const points = Float64Array.from(bands.map((b) => b.points));
    return { feature, bounds, points, maxPoints: Math.max(...points) };
  });
  const factor = model.scaling.pdo / Math.LN2;
  const offset = model.scaling.score - factor * Math.log(model.scaling.odds);
  return (features) => {
    let score = model.baseScore;
    const contributions: ModelScore["contributions"] = [];
    for (const c of compiled) {
      const value = features[c.feature];
      let band = 0;
      while (band < c.bounds.length - 1 && !(value < (c.bounds[band] as number))) band++;
      const earned = c.points[band] as number;
      score += earned;
      contributions.push({ feature: c.feature, points: earned, maxPoints: c.maxPoints });
    }
    const logOdds = (score - offset) / factor;
    return { score: Math.round(score), pd: 1 / (1 + Math.exp(logOdds)), contributions };
  };
}
