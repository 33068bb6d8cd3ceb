import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DecisionContext } from "../engine/decide.ts";
import type { FeatureName } from "../engine/features.ts";
import { compileModel, type PointsModel } from "../engine/model.ts";
import { armOf } from "../engine/policy/arms.ts";
import type { Policy } from "../engine/policy.ts";
import { DEFAULT_PRICING, type PricingPolicy, validatePricing } from "../engine/pricing/rate.ts";
import type { ValidationReport } from "../engine/scorecard/validation.ts";
import { defaultPolicy } from "./policyFiles.ts";

/**
 * The active policy, model and pricing versions, compiled once; services pass this to decide().
 * `policy` is the champion; a challenger decides a deterministic share of accounts (contextFor);
 * shadow versions are decided and recorded apart, never acted on (policyVersions.ts).
 */
export interface ActiveEngine extends DecisionContext {
  policy: Policy;
  model: PointsModel;
  pricing: PricingPolicy;
  challenger?: { policy: Policy; share: number };
  shadows?: Policy[];
}

/** The decision context for one account: the challenger's policy for its share, else the champion's. */
export function contextFor(engine: ActiveEngine, accountId: string): DecisionContext {
  const c = engine.challenger;
  if (c === undefined || armOf(accountId, c.share) === "champion") return engine;
  return { policy: c.policy, scorer: engine.scorer, phaseIn: engine.phaseIn };
}

/** The trained model the project ships (`headroom model train-default` rebuilds it). */
export interface DefaultModelArtifact {
  model: PointsModel;
  trainedOn: string;
  validation: ValidationReport;
  /** Held-out rows per band of each feature, for characteristic stability (CSI) on live decisions. */
  featureBaselines: Partial<Record<FeatureName, number[]>>;
}

export const DEFAULT_MODEL_ARTIFACT = fileURLToPath(
  new URL("../../models/default-scorecard.json", import.meta.url),
);

export function defaultModelArtifact(): DefaultModelArtifact {
  return JSON.parse(readFileSync(DEFAULT_MODEL_ARTIFACT, "utf8")) as DefaultModelArtifact;
}

export function activeEngine(
  policy: Policy = defaultPolicy(),
  model: PointsModel = defaultModelArtifact().model,
  pricing: PricingPolicy = DEFAULT_PRICING,
): ActiveEngine {
  validatePricing(pricing);
  return { policy, model, pricing, scorer: compileModel(model) };
}
