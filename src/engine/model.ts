import type { FeatureName, Features } from "./features.ts";

/**
 * A points model: each feature falls in one band and earns that band's points; the score is their sum.
 * The foundation ships a hand-set one; trained scorecards compile to the same shape.
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

/** The hand-set behavioural model the foundation ships; issue 3 replaces it with trained versions. */
export const DEFAULT_POINTS_MODEL: PointsModel = {
  version: "behaviour-points-1",
  baseScore: 420,
  scaling: { score: 600, odds: 50, pdo: 20 },
  bands: {
    dpd: [
      { below: 1, points: 80 },
      { below: 8, points: 40 },
      { below: 30, points: 10 },
      { below: null, points: -60 },
    ],
    overdueCount12m: [
      { below: 1, points: 50 },
      { below: 2, points: 25 },
      { below: 4, points: 5 },
      { below: null, points: -20 },
    ],
    inquiries30d: [
      { below: 2, points: 30 },
      { below: 4, points: 15 },
      { below: 7, points: 0 },
      { below: null, points: -15 },
    ],
    newLenders90d: [
      { below: 1, points: 30 },
      { below: 3, points: 15 },
      { below: null, points: -10 },
    ],
    otherLenders: [
      { below: 2, points: 20 },
      { below: 5, points: 10 },
      { below: null, points: -5 },
    ],
    utilisation: [
      { below: 0.3, points: 25 },
      { below: 0.7, points: 15 },
      { below: 0.95, points: 5 },
      { below: null, points: -5 },
    ],
    debtToIncome: [
      { below: 0.2, points: 30 },
      { below: 0.4, points: 15 },
      { below: 0.6, points: 0 },
      { below: null, points: -20 },
    ],
    monthsOnBook: [
      { below: 3, points: 0 },
      { below: 12, points: 10 },
      { below: null, points: 20 },
    ],
    loginAnomalies30d: [
      { below: 1, points: 10 },
      { below: 3, points: 0 },
      { below: null, points: -20 },
    ],
  },
};
