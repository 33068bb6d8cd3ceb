import { FEATURE_NAMES, FEATURES, type FeatureName } from "../features.ts";
import type { Condition, FactName, PolicyRule } from "../policy.ts";

export const FACT_NAMES: readonly FactName[] = [...FEATURE_NAMES, "score", "frozen", "closed", "targetGap"];

export function isFeature(fact: FactName): fact is FeatureName {
  return fact in FEATURES;
}

/** A condition counts against the borrower when it tests the direction of the feature that hurts. */
export function isAgainstBorrower(c: Condition): boolean {
  if (!isFeature(c.fact)) return false;
  return FEATURES[c.fact].adverse === "higher"
    ? c.op === ">=" || c.op === ">"
    : c.op === "<=" || c.op === "<";
}

/**
 * An adverse rule must be able to give principal reasons: a feature condition against the
 * borrower, or a score / target condition (whose reasons are the scorecard's lost points).
 */
export function canGiveReasons(rule: Pick<PolicyRule, "when">): boolean {
  return rule.when.some((c) => isAgainstBorrower(c) || c.fact === "score" || c.fact === "targetGap");
}

export const ADVERSE_ACTIONS: ReadonlySet<string> = new Set(["decrease", "freeze", "close"]);

/**
 * What values a fact can take: analysis (gaps, unreachable rules) and recourse (the nearest value
 * that flips a condition) both need to know that dpd is a whole number of days and never negative.
 */
export interface FactDomain {
  min: number;
  max: number;
  /** The smallest meaningful step: 1 for counts and days, finer for ratios. */
  step: number;
  integer: boolean;
}

const RATIO_STEP = 0.0001;

export function domainOf(fact: FactName): FactDomain {
  switch (fact) {
    case "score":
      return { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY, step: 1, integer: true };
    case "frozen":
    case "closed":
      return { min: 0, max: 1, step: 1, integer: true };
    case "targetGap":
      return { min: -1, max: Number.POSITIVE_INFINITY, step: RATIO_STEP, integer: false };
    default:
      return featureDomain(fact);
  }
}

function featureDomain(feature: FeatureName): FactDomain {
  switch (FEATURES[feature].unit) {
    case "ratio":
      return {
        min: feature === "incomeChange" ? -1 : 0,
        max: Number.POSITIVE_INFINITY,
        step: RATIO_STEP,
        integer: false,
      };
    case "flag":
      return { min: 0, max: 1, step: 1, integer: true };
    default:
      return { min: 0, max: Number.POSITIVE_INFINITY, step: 1, integer: true };
  }
}
