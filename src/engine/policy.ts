import type { CreditEventType, Region } from "./events.ts";
import type { FeatureName } from "./features.ts";
import type { Fen } from "./money.ts";

/**
 * A credit-line policy is data, not code: structured conditions the engine can evaluate, explain
 * ("why" and "why not"), check for gaps and invert for recourse. Policies are written as YAML
 * documents (policies/*.yaml, parsed by policy/document.ts) and compiled once (policy/compile.ts).
 */
export type FactName = FeatureName | "score" | "frozen" | "closed" | "targetGap";
export type ComparisonOp = ">=" | ">" | "<=" | "<" | "==" | "!=";

export interface Condition {
  fact: FactName;
  op: ComparisonOp;
  value: number;
}

/** The one place a comparison in a condition is evaluated (compiled policies use its op-code twin, opHolds). */
export function compare(actual: number, op: ComparisonOp, value: number): boolean {
  switch (op) {
    case ">=":
      return actual >= value;
    case ">":
      return actual > value;
    case "<=":
      return actual <= value;
    case "<":
      return actual < value;
    case "==":
      return actual === value;
    case "!=":
      return actual !== value;
  }
}

export type LineAction = "none" | "increase" | "decrease" | "freeze" | "close" | "reopen";
/** Notice class: urgent takes effect at once; notice waits an advance-notice period; favourable at once. */
export type Urgency = "urgent" | "notice" | "favourable";

/** How a rule sets the new limit. */
export type LimitRule = { kind: "target" } | { kind: "factor"; factor: number } | { kind: "keep" };

export interface PolicyRule {
  id: string;
  description: string;
  when: Condition[];
  action: Exclude<LineAction, "none">;
  urgency: Urgency;
  /** Advance notice for this rule when `urgency` is "notice"; the guardrail default otherwise. */
  noticeDays?: number;
  limit: LimitRule;
  /** A freeze that also calls outstanding loans back (抽贷). */
  recall?: boolean;
}

/** One row of the risk-tier decision table. */
export interface RiskTier {
  id: string;
  /** All must hold for the row to match (score bands, feature bands). Never `targetGap`. */
  when: Condition[];
  maxLimit: Fen;
  /** Target limit as a multiple of monthly income. */
  incomeMultiple: number;
}

/**
 * first: the first matching row wins. collect: every matching row is collected and the most
 * conservative (lowest cap) wins.
 */
export type HitPolicy = "first" | "collect";

export interface TierTable {
  hitPolicy: HitPolicy;
  rows: RiskTier[];
}

/** target = min(tier cap, income x tier multiple x region factor, line cap), floored to whole yuan. */
export interface LimitFormula {
  regionFactors: Partial<Record<Region, number>>;
}

export interface Guardrails {
  minDaysBetweenChanges: number;
  /** Largest share of the highest limit of the last 30 days that cuts may remove. */
  maxCutPer30d: number;
  /** Relative band around the current limit inside which the target does not move the limit. */
  hysteresis: number;
  /** Largest single increase as a share of the current limit. */
  maxIncreaseRatio: number;
  /** Cap on any consumer line; the engine's HARD_LINE_CAP bounds it whatever the policy says. */
  lineCap: Fen;
  noticeDays: number;
  /** Ability to pay: monthly obligations including the new line's minimum payment, over income. */
  maxDebtToIncomeAfterIncrease: number;
  /** Minimum monthly payment assumed per fen of limit, for the ability-to-pay check. */
  minimumPaymentRate: number;
  /** While a new model version phases in, the largest change of a limit in one decision. */
  phaseInMaxChange: number;
}

/**
 * The rates a policy version charges: a base rate per risk tier and adjustments for feature
 * conditions. The product's legal floor and ceiling bound them (pricing/rate.ts, pricingFor).
 */
export interface PolicyPricing {
  tierRates: Record<string, number>;
  adjustments: { id: string; description: string; when: Condition[]; delta: number }[];
}

export interface Policy {
  version: string;
  /** Absent: the product's default rates. */
  pricing?: PolicyPricing;
  tiers: TierTable;
  limit: LimitFormula;
  rules: PolicyRule[];
  guardrails: Guardrails;
  /** Event types that re-decide the account when they arrive. */
  triggers: CreditEventType[];
  /**
   * Loan purposes (drawdown purposes, transaction categories) this product prohibits: drawdowns
   * for them are refused, and funds seen going to them count as prohibited use (the recall rule
   * reads prohibitedUse90d). Absent: the regulatory default list, PROHIBITED_PURPOSES.
   */
  prohibitedPurposes?: string[];
}

/** The consumer line cap (RMB 200,000) no policy can lift. */
export const HARD_LINE_CAP: Fen = 20_000_000;
