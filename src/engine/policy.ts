import type { CreditEventType } from "./events.ts";
import type { FeatureName } from "./features.ts";
import type { Fen } from "./money.ts";

/**
 * A credit-line policy is data, not code: structured conditions the engine can evaluate, explain
 * ("why" and "why not"), check for gaps and invert for recourse.
 */
export type FactName = FeatureName | "score" | "frozen" | "closed" | "targetGap";
export type ComparisonOp = ">=" | ">" | "<=" | "<" | "==" | "!=";

export interface Condition {
  fact: FactName;
  op: ComparisonOp;
  value: number;
}

/** The one place a comparison in a condition is evaluated. */
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
export type Urgency = "urgent" | "notice" | "favourable";

/** How a rule sets the new limit. */
export type LimitRule = { kind: "target" } | { kind: "factor"; factor: number } | { kind: "keep" };

export interface PolicyRule {
  id: string;
  description: string;
  when: Condition[];
  action: Exclude<LineAction, "none">;
  urgency: Urgency;
  limit: LimitRule;
  /** A freeze that also calls outstanding loans back (抽贷). */
  recall?: boolean;
}

export interface RiskTier {
  id: string;
  minScore: number;
  maxLimit: Fen;
  /** Target limit as a multiple of monthly income. */
  incomeMultiple: number;
}

export interface Guardrails {
  minDaysBetweenChanges: number;
  /** Largest share of the highest limit of the last 30 days that non-urgent cuts may remove. */
  maxCutPer30d: number;
  /** Relative band around the current limit inside which the target does not move the limit. */
  hysteresis: number;
  /** Largest single increase as a share of the current limit. */
  maxIncreaseRatio: number;
  /** Hard cap on any consumer line (e.g. RMB 200,000). */
  lineCap: Fen;
  noticeDays: number;
  /** Ability to pay: monthly obligations including the new line's minimum payment, over income. */
  maxDebtToIncomeAfterIncrease: number;
  /** Minimum monthly payment assumed per fen of limit, for the ability-to-pay check. */
  minimumPaymentRate: number;
}

export interface Policy {
  version: string;
  tiers: RiskTier[];
  rules: PolicyRule[];
  guardrails: Guardrails;
  /** Event types that re-decide the account when they arrive. */
  triggers: CreditEventType[];
}

export const DEFAULT_POLICY: Policy = {
  version: "policy-1",
  tiers: [
    // Cut-offs on the default model's scale (600 at 50:1, 20 points to double the odds), where its
    // held-out bad rates are about 1% (A), 2-3% (B), 5% (C), 10% (D) and 30% (E).
    { id: "A", minScore: 606, maxLimit: 20_000_000, incomeMultiple: 6 },
    { id: "B", minScore: 590, maxLimit: 10_000_000, incomeMultiple: 4 },
    { id: "C", minScore: 570, maxLimit: 5_000_000, incomeMultiple: 2.5 },
    { id: "D", minScore: 540, maxLimit: 2_000_000, incomeMultiple: 1.5 },
    { id: "E", minScore: Number.NEGATIVE_INFINITY, maxLimit: 500_000, incomeMultiple: 0.5 },
  ],
  rules: [
    {
      id: "fraud-close",
      description: "Reported fraud closes the line at once",
      when: [{ fact: "fraudFlag", op: ">=", value: 1 }],
      action: "close",
      urgency: "urgent",
      limit: { kind: "keep" },
    },
    {
      id: "prohibited-use-recall",
      description: "Funds used for a prohibited purpose freeze the line and call the loan back",
      when: [
        { fact: "prohibitedUse90d", op: ">=", value: 1 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "freeze",
      urgency: "urgent",
      limit: { kind: "keep" },
      recall: true,
    },
    {
      id: "severe-delinquency-close",
      description: "90 or more days past due closes the line",
      when: [
        { fact: "dpd", op: ">=", value: 90 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "close",
      urgency: "urgent",
      limit: { kind: "keep" },
    },
    {
      id: "delinquency-freeze",
      description: "30 or more days past due freezes drawing",
      when: [
        { fact: "dpd", op: ">=", value: 30 },
        { fact: "frozen", op: "==", value: 0 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "freeze",
      urgency: "urgent",
      limit: { kind: "keep" },
    },
    {
      id: "cured-reopen",
      description: "A frozen line whose arrears are cured and whose score recovered reopens",
      when: [
        { fact: "frozen", op: "==", value: 1 },
        { fact: "dpd", op: "==", value: 0 },
        { fact: "prohibitedUse90d", op: "==", value: 0 },
        { fact: "score", op: ">=", value: 540 },
      ],
      action: "reopen",
      urgency: "favourable",
      limit: { kind: "target" },
    },
    {
      id: "multi-lending-decrease",
      description: "Borrowing from many new lenders while applying widely halves the line, with notice",
      when: [
        { fact: "newLenders90d", op: ">=", value: 3 },
        { fact: "inquiries30d", op: ">=", value: 4 },
        { fact: "frozen", op: "==", value: 0 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "decrease",
      urgency: "notice",
      limit: { kind: "factor", factor: 0.5 },
    },
    {
      id: "over-target-decrease",
      description: "A limit well above what the risk tier and income support comes down, with notice",
      when: [
        { fact: "targetGap", op: "<", value: 0 },
        { fact: "frozen", op: "==", value: 0 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "decrease",
      urgency: "notice",
      limit: { kind: "target" },
    },
    {
      id: "good-standing-increase",
      description: "A borrower in good standing whose tier supports more gets an increase",
      when: [
        { fact: "targetGap", op: ">", value: 0 },
        { fact: "dpd", op: "==", value: 0 },
        { fact: "overdueCount12m", op: "==", value: 0 },
        { fact: "monthsOnBook", op: ">=", value: 3 },
        { fact: "frozen", op: "==", value: 0 },
        { fact: "closed", op: "==", value: 0 },
      ],
      action: "increase",
      urgency: "favourable",
      limit: { kind: "target" },
    },
  ],
  guardrails: {
    minDaysBetweenChanges: 30,
    maxCutPer30d: 0.5,
    hysteresis: 0.1,
    maxIncreaseRatio: 0.5,
    lineCap: 20_000_000,
    noticeDays: 30,
    maxDebtToIncomeAfterIncrease: 0.5,
    minimumPaymentRate: 0.05,
  },
  triggers: [
    "repayment_made",
    "bureau_inquiry",
    "external_loan_opened",
    "external_loan_closed",
    "income_verified",
    "transaction",
    "fraud_reported",
  ],
};
