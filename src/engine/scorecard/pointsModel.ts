import type { FeatureName } from "../features.ts";
import type { PointsBand, PointsModel } from "../model.ts";
import type { Scorecard } from "./scorecard.ts";

/**
 * A trained scorecard over the engine's own features, as the engine's points model: each range
 * bin becomes a band. Special and missing bins have no band because engine features are always
 * present and never coded.
 */
export function toPointsModel(
  card: Scorecard,
  isFeature: (name: string) => name is FeatureName,
): PointsModel {
  const bands: Partial<Record<FeatureName, PointsBand[]>> = {};
  for (const f of card.features) {
    if (!isFeature(f.name))
      throw new RangeError(`scorecard ${card.version}: ${f.name} is not an engine feature`);
    if (f.binning.type !== "numeric")
      throw new RangeError(`scorecard ${card.version}: ${f.name} must be numeric`);
    const ranges = f.binning.bins.flatMap((b, i) =>
      b.bin.kind === "range" ? [{ upper: b.bin.upper, points: f.points[i] as number }] : [],
    );
    bands[f.name] = ranges.map((r) => ({
      below: r.upper === Number.POSITIVE_INFINITY ? null : r.upper,
      points: Math.round(r.points * 10) / 10,
    }));
  }
  return {
    version: card.version,
    baseScore: Math.round(card.baseScore * 10) / 10,
    scaling: card.scaling,
    bands,
  };
}
