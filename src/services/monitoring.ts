import type { FeatureName, Features } from "../engine/features.ts";
import { psi, type StabilityBand } from "../engine/scorecard/metrics.ts";
import { countInBins } from "../engine/scorecard/validation.ts";
import type { Store } from "../store/connect.ts";
import { bandCounts } from "./behaviourModel.ts";
import type { DefaultModelArtifact } from "./engineConfig.ts";

export interface StabilityReport {
  modelVersion: string;
  decisions: number;
  score: { psi: number; band: StabilityBand };
  features: { feature: FeatureName; csi: number; band: StabilityBand }[];
}

const MAX_DECISIONS = 50_000;

/**
 * Population stability of the live book against the model's held-out baseline: PSI of the score
 * and CSI of each feature over the latest decisions the model made (0.1 and 0.25 bands).
 */
export async function liveStability(
  store: Store,
  artifact: DefaultModelArtifact,
): Promise<StabilityReport | null> {
  const rows = await store.db
    .selectFrom("decisions")
    .select(["score", "input"])
    .where("model_version", "=", artifact.model.version)
    .orderBy("recorded_at", "desc")
    .limit(MAX_DECISIONS)
    .execute();
  if (rows.length === 0) return null;
  const baseline = artifact.validation.scoreBaseline;
  const features = rows.map((r) => (JSON.parse(r.input) as { features: Features }).features);
  return {
    modelVersion: artifact.model.version,
    decisions: rows.length,
    score: psi(
      baseline.counts,
      countInBins(
        rows.map((r) => r.score),
        baseline.bounds,
      ),
    ),
    features: (Object.entries(artifact.featureBaselines) as [FeatureName, number[]][]).map(
      ([feature, expected]) => {
        const { psi: csi, band } = psi(
          expected,
          bandCounts(
            artifact.model,
            feature,
            features.map((f) => f[feature]),
          ),
        );
        return { feature, csi, band };
      },
    ),
  };
}
