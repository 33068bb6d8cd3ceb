import type { DecisionContext } from "../engine/decide.ts";
import { compileModel, DEFAULT_POINTS_MODEL, type PointsModel } from "../engine/model.ts";
import { DEFAULT_POLICY, type Policy } from "../engine/policy.ts";

/** The active policy and model versions, compiled once; services pass this to decide(). */
export interface ActiveEngine extends DecisionContext {
  policy: Policy;
  model: PointsModel;
}

export function activeEngine(
  policy: Policy = DEFAULT_POLICY,
  model: PointsModel = DEFAULT_POINTS_MODEL,
): ActiveEngine {
  return { policy, model, scorer: compileModel(model) };
}
