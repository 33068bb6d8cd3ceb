import type { DecisionContext } from "../engine/decide.ts";
import { compileModel, DEFAULT_POINTS_MODEL, type PointsModel } from "../engine/model.ts";
import { DEFAULT_POLICY, type Policy } from "../engine/policy.ts";
import { DEFAULT_PRICING, type PricingPolicy, validatePricing } from "../engine/pricing/rate.ts";

/** The active policy, model and pricing versions, compiled once; services pass this to decide(). */
export interface ActiveEngine extends DecisionContext {
  policy: Policy;
  model: PointsModel;
  pricing: PricingPolicy;
}

export function activeEngine(
  policy: Policy = DEFAULT_POLICY,
  model: PointsModel = DEFAULT_POINTS_MODEL,
  pricing: PricingPolicy = DEFAULT_PRICING,
): ActiveEngine {
  validatePricing(pricing);
  return { policy, model, pricing, scorer: compileModel(model) };
}
