import type { AffordabilityCheck, DecisionTrace } from "../engine/decide.ts";
import { FEATURES, type FeatureName } from "../engine/features.ts";
import type { ComparisonOp, FactName, LineAction, Urgency } from "../engine/policy.ts";
import type { Reason } from "../engine/reasons.ts";
import type { DecisionRecord, DecisionView } from "./accountQueries.ts";
import type { ActiveEngine } from "./engineConfig.ts";

export interface Label {
  en: string;
  zh: string;
}

/** Facts a policy can test besides the features, named for people reading a decision. */
const CONTEXT_FACTS: Record<Exclude<FactName, FeatureName>, Label> = {
  score: { en: "credit score", zh: "信用评分" },
  frozen: { en: "line frozen (1 = yes)", zh: "额度已冻结（1 = 是）" },
  closed: { en: "line closed (1 = yes)", zh: "额度已关闭（1 = 是）" },
  targetGap: { en: "gap from target limit (share of limit)", zh: "与目标额度的差距（占当前额度比例）" },
};

export function factLabel(fact: FactName): Label {
  return fact in CONTEXT_FACTS
    ? CONTEXT_FACTS[fact as keyof typeof CONTEXT_FACTS]
    : { en: FEATURES[fact as FeatureName].en, zh: FEATURES[fact as FeatureName].zh };
}

export interface ConditionTrace {
  fact: FactName;
  label: Label;
  op: ComparisonOp;
  value: number;
  /** The fact's value when the decision was made. */
  actual: number;
  /** Read from the recorded rule mask, not re-evaluated. */
  held: boolean;
}

/**
 * fired: the first rule whose conditions all held; shadowed: all held but an earlier rule fired;
 * not_met: at least one condition failed (those conditions are the "why not").
 */
export type RuleOutcome = "fired" | "shadowed" | "not_met";

export interface RuleTrace {
  id: string;
  description: string;
  action: Exclude<LineAction, "none">;
  urgency: Urgency;
  outcome: RuleOutcome;
  conditions: ConditionTrace[];
}

export interface FeaturePoints {
  feature: FeatureName;
  label: Label;
  value: number;
  points: number;
  maxPoints: number;
}

export interface DecisionExplanation {
  decision: DecisionView;
  pd: number;
  tier: string;
  urgency: Urgency | null;
  requiresReview: boolean;
  trace: Pick<
    DecisionTrace,
    "target" | "tierCap" | "incomeLimit" | "targetGap" | "matchedRule" | "guardrails"
  >;
  /** debtToIncomeAfter is null where it was infinite (no income): the stored record is JSON. */
  affordability:
    | (Omit<AffordabilityCheck, "debtToIncomeAfter"> & { debtToIncomeAfter: number | null })
    | null;
  reasons: Reason[];
  /** Points by feature; null when the model version that decided is not the one loaded. */
  points: FeaturePoints[] | null;
  /** Every rule in policy order with its conditions; null when the deciding policy is not loaded. */
  rules: RuleTrace[] | null;
  unavailable: string[];
}

/**
 * Joins a decision record with the policy and model that made it: the recorded per-rule condition
 * masks say which conditions held, the rule definitions say what they were. Nothing is re-decided.
 */
export function explainDecision(record: DecisionRecord, engine: ActiveEngine): DecisionExplanation {
  const { input, output, ...decision } = record;
  const unavailable: string[] = [];
  const facts: Record<FactName, number> = {
    ...input.features,
    score: output.score,
    frozen: input.line.status === "FROZEN" ? 1 : 0,
    closed: input.line.status === "CLOSED" ? 1 : 0,
    targetGap: output.trace.targetGap,
  };

  let rules: RuleTrace[] | null = null;
  const policy = engine.policy;
  if (policy.version !== record.policyVersion || policy.rules.length !== output.trace.ruleMasks.length) {
    unavailable.push(`policy ${record.policyVersion} is not loaded (loaded: ${policy.version})`);
  } else {
    let firedSeen = false;
    rules = policy.rules.map((rule, i) => {
      const mask = output.trace.ruleMasks[i] ?? 0;
      const allHeld = mask === (1 << rule.when.length) - 1;
      const outcome: RuleOutcome = !allHeld ? "not_met" : firedSeen ? "shadowed" : "fired";
      if (allHeld) firedSeen = true;
      return {
        id: rule.id,
        description: rule.description,
        action: rule.action,
        urgency: rule.urgency,
        outcome,
        conditions: rule.when.map((c, bit) => ({
          fact: c.fact,
          label: factLabel(c.fact),
          op: c.op,
          value: c.value,
          actual: facts[c.fact],
          held: (mask & (1 << bit)) !== 0,
        })),
      };
    });
  }

  let points: FeaturePoints[] | null = null;
  const rescored = engine.model.version === record.modelVersion ? engine.scorer(input.features) : null;
  if (rescored === null || rescored.score !== output.score) {
    unavailable.push(`model ${record.modelVersion} is not loaded (loaded: ${engine.model.version})`);
  } else {
    points = rescored.contributions.map((c) => ({
      feature: c.feature,
      label: factLabel(c.feature),
      value: input.features[c.feature],
      points: c.points,
      maxPoints: c.maxPoints,
    }));
  }

  const { target, tierCap, incomeLimit, targetGap, matchedRule, guardrails } = output.trace;
  return {
    decision,
    pd: output.pd,
    tier: output.tier,
    urgency: output.urgency,
    requiresReview: output.requiresReview,
    trace: { target, tierCap, incomeLimit, targetGap, matchedRule, guardrails },
    affordability: output.affordability,
    reasons: output.reasons,
    points,
    rules,
    unavailable,
  };
}
