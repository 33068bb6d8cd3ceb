import type { FeatureName, Features } from "./features.ts";
import { FEATURES } from "./features.ts";
import type { ModelScore, Scorer } from "./model.ts";
import { type Fen, floorToYuan } from "./money.ts";
import {
  type Condition,
  compare,
  type FactName,
  type LineAction,
  type Policy,
  type PolicyRule,
  type RiskTier,
  type Urgency,
} from "./policy.ts";
import { MAX_REASONS, type Reason, reasonFor } from "./reasons.ts";
import { addDays, daysBetween, type EpochMs } from "./time.ts";

export type LineStatus = "ACTIVE" | "FROZEN" | "CLOSED";

export type DecisionTrigger =
  | { kind: "event"; eventId: string; eventType: string }
  | { kind: "review"; runId: string }
  | { kind: "analyst"; actor: string };

/** Everything decide() reads. A decision record stores this, so any decision can be replayed. */
export interface DecisionInput {
  accountId: string;
  line: {
    status: LineStatus;
    limit: Fen;
    balance: Fen;
    lastChangeAt: EpochMs | null;
    highestLimit30d: Fen;
    /** A change announced and waiting out its notice period. */
    pendingAction: LineAction | null;
  };
  features: Features;
  /** Monthly income and obligations (fen) and whether the income is verified. */
  affordability: { income: Fen; verified: boolean; obligations: Fen };
  optOutAutomated: boolean;
  trigger: DecisionTrigger;
}

export interface AffordabilityCheck {
  income: Fen;
  incomeVerified: boolean;
  obligations: Fen;
  newMinimumPayment: Fen;
  debtToIncomeAfter: number;
  limitAffordable: Fen;
  passed: boolean;
}

export interface DecisionTrace {
  tier: string;
  target: Fen;
  tierCap: Fen;
  incomeLimit: Fen;
  targetGap: number;
  /** Per rule, a bit per condition that held (bit i = condition i), in policy order. */
  ruleMasks: number[];
  matchedRule: string | null;
  guardrails: string[];
}

export interface Decision {
  accountId: string;
  action: LineAction;
  ruleId: string | null;
  urgency: Urgency | null;
  adverse: boolean;
  recall: boolean;
  fromLimit: Fen;
  toLimit: Fen;
  fromStatus: LineStatus;
  toStatus: LineStatus;
  decidedAt: EpochMs;
  effectiveAt: EpochMs;
  /** The borrower opted out of solely automated decisions: a reviewer must confirm this one. */
  requiresReview: boolean;
  score: number;
  pd: number;
  tier: string;
  reasons: Reason[];
  affordability: AffordabilityCheck | null;
  trace: DecisionTrace;
}

export interface DecisionContext {
  policy: Policy;
  scorer: Scorer;
}

/** The facts a rule reads besides the features. Kept apart: copying the features costs more than deciding. */
interface ContextFacts {
  score: number;
  frozen: number;
  closed: number;
  targetGap: number;
}

function factValue(fact: FactName, features: Features, context: ContextFacts): number {
  switch (fact) {
    case "score":
    case "frozen":
    case "closed":
    case "targetGap":
      return context[fact];
    default:
      return features[fact];
  }
}

function holds(condition: Condition, features: Features, context: ContextFacts): boolean {
  return compare(factValue(condition.fact, features, context), condition.op, condition.value);
}

export function tierFor(tiers: readonly RiskTier[], score: number): RiskTier {
  const tier = tiers.find((t) => score >= t.minScore);
  if (tier === undefined) throw new Error(`no risk tier covers score ${score}`);
  return tier;
}

const ADVERSE: ReadonlySet<LineAction> = new Set(["decrease", "freeze", "close"]);
const CONTEXT_FACTS: ReadonlySet<FactName> = new Set(["score", "frozen", "closed", "targetGap"]);

function isAgainstBorrower(feature: FeatureName, condition: Condition): boolean {
  const higherHurts = FEATURES[feature].adverse === "higher";
  return higherHurts
    ? condition.op === ">=" || condition.op === ">"
    : condition.op === "<=" || condition.op === "<";
}

/**
 * Principal reasons: the features the fired rule held against the borrower first, then the features
 * that lost the most scorecard points when the score or the target drove the decision.
 */
function principalReasons(
  rule: PolicyRule,
  features: Features,
  scored: ModelScore,
  incomeLimited: boolean,
): Reason[] {
  const reasons: Reason[] = [];
  let scoreDriven = false;
  for (const condition of rule.when) {
    if (CONTEXT_FACTS.has(condition.fact)) {
      scoreDriven ||= condition.fact === "score" || condition.fact === "targetGap";
      continue;
    }
    const feature = condition.fact as FeatureName;
    if (isAgainstBorrower(feature, condition)) addReason(reasons, feature, features, null);
  }
  if (scoreDriven) {
    if (incomeLimited) addReason(reasons, "monthlyIncome", features, null);
    const losses = scored.contributions
      .filter((c) => c.maxPoints - c.points > 0)
      .sort((a, b) => b.maxPoints - b.points - (a.maxPoints - a.points));
    for (const c of losses) addReason(reasons, c.feature, features, c.maxPoints - c.points);
  }
  return reasons;
}

/** Adds a reason unless that feature already has one or the list is full. */
function addReason(
  reasons: Reason[],
  feature: FeatureName,
  features: Features,
  pointsLost: number | null,
): void {
  if (reasons.length >= MAX_REASONS) return;
  for (const r of reasons) if (r.feature === feature) return;
  reasons.push(reasonFor(feature, features[feature], pointsLost));
}

function affordabilityFor(input: DecisionInput, policy: Policy, proposed: Fen): AffordabilityCheck {
  const g = policy.guardrails;
  const { income, verified, obligations } = input.affordability;
  const headroom = g.maxDebtToIncomeAfterIncrease * income - obligations;
  const limitAffordable = headroom > 0 ? floorToYuan(headroom / g.minimumPaymentRate) : 0;
  const newMinimumPayment = Math.ceil(proposed * g.minimumPaymentRate);
  const debtToIncomeAfter =
    income > 0 ? (obligations + newMinimumPayment) / income : Number.POSITIVE_INFINITY;
  return {
    income,
    incomeVerified: verified,
    obligations,
    newMinimumPayment,
    debtToIncomeAfter,
    limitAffordable,
    passed: income > 0 && debtToIncomeAfter <= g.maxDebtToIncomeAfterIncrease,
  };
}

/**
 * The pure decision: (inputs, policy, model, now) -> decision. No I/O, no clock; the same input
 * replays to the same decision.
 */
export function decide(input: DecisionInput, ctx: DecisionContext, now: EpochMs): Decision {
  const { policy } = ctx;
  const g = policy.guardrails;
  const line = input.line;
  const scored = ctx.scorer(input.features);
  const tier = tierFor(policy.tiers, scored.score);
  const incomeLimit = floorToYuan(input.affordability.income * tier.incomeMultiple);
  const target = Math.min(tier.maxLimit, incomeLimit, g.lineCap);
  const rawGap = line.limit > 0 ? (target - line.limit) / line.limit : target > 0 ? 1 : 0;
  const targetGap = Math.abs(rawGap) <= g.hysteresis ? 0 : rawGap;
  const context: ContextFacts = {
    score: scored.score,
    frozen: line.status === "FROZEN" ? 1 : 0,
    closed: line.status === "CLOSED" ? 1 : 0,
    targetGap,
  };

  const ruleMasks: number[] = [];
  let matched: PolicyRule | null = null;
  for (const rule of policy.rules) {
    let mask = 0;
    const when = rule.when;
    for (let i = 0; i < when.length; i++)
      if (holds(when[i] as Condition, input.features, context)) mask |= 1 << i;
    ruleMasks.push(mask);
    if (matched === null && mask === (1 << when.length) - 1) matched = rule;
  }

  const guardrails: string[] = [];
  let action: LineAction = matched?.action ?? "none";
  let toLimit = line.limit;
  let toStatus: LineStatus = line.status;
  let affordability: AffordabilityCheck | null = null;

  if (matched !== null) {
    const proposed =
      matched.limit.kind === "target"
        ? target
        : matched.limit.kind === "factor"
          ? floorToYuan(line.limit * matched.limit.factor)
          : line.limit;
    const sinceChange =
      line.lastChangeAt === null ? Number.POSITIVE_INFINITY : daysBetween(line.lastChangeAt, now);
    if (line.pendingAction === matched.action) {
      guardrails.push(`pending: this ${matched.action} is already announced or awaiting review`);
      action = "none";
    } else if (matched.urgency !== "urgent" && line.pendingAction !== null) {
      guardrails.push(`pending-notice: a ${line.pendingAction} is already announced`);
      action = "none";
    } else if (
      matched.urgency !== "urgent" &&
      matched.action !== "reopen" &&
      sinceChange < g.minDaysBetweenChanges
    ) {
      // Restoring access after a cure is never held back; the interval stops limit amounts flapping.
      guardrails.push(
        `min-interval: last change ${sinceChange} days ago, minimum ${g.minDaysBetweenChanges}`,
      );
      action = "none";
    } else if (action === "decrease") {
      const floor = floorToYuan(Math.ceil(line.highestLimit30d * (1 - g.maxCutPer30d)));
      toLimit = proposed;
      if (toLimit < floor) {
        guardrails.push(`max-cut: held at ${floor} (${g.maxCutPer30d * 100}% of the 30-day high)`);
        toLimit = floor;
      }
      if (toLimit >= line.limit) action = "none";
    } else if (action === "increase") {
      const stepCap = floorToYuan(line.limit * (1 + g.maxIncreaseRatio));
      toLimit = Math.min(proposed, line.limit > 0 ? stepCap : proposed, g.lineCap);
      affordability = affordabilityFor(input, policy, toLimit);
      if (!affordability.passed) {
        toLimit = Math.min(toLimit, affordability.limitAffordable);
        guardrails.push(`ability-to-pay: affordable limit ${affordability.limitAffordable}`);
        affordability = affordabilityFor(input, policy, toLimit);
      }
      if (!affordability.passed || toLimit <= line.limit * (1 + g.hysteresis)) {
        action = "none";
        toLimit = line.limit;
      }
    } else if (action === "reopen") {
      toLimit = Math.min(proposed, line.limit);
      toStatus = "ACTIVE";
      affordability = affordabilityFor(input, policy, toLimit);
      if (!affordability.passed) {
        guardrails.push("ability-to-pay: reopening needs affordable obligations");
        action = "none";
        toLimit = line.limit;
        toStatus = line.status;
      }
    } else if (action === "freeze") {
      toStatus = "FROZEN";
    } else if (action === "close") {
      toStatus = "CLOSED";
      toLimit = 0;
    }
  }
  if (toLimit > g.lineCap) {
    guardrails.push(`line-cap: ${g.lineCap}`);
    toLimit = g.lineCap;
  }
  if (action === "none") {
    toLimit = line.limit;
    toStatus = line.status;
  }

  const adverse = ADVERSE.has(action);
  const urgency = action === "none" || matched === null ? null : matched.urgency;
  const reasons =
    adverse && matched !== null
      ? principalReasons(matched, input.features, scored, incomeLimit < tier.maxLimit)
      : [];
  if (adverse && reasons.length === 0) {
    throw new Error(`policy ${policy.version} rule ${matched?.id}: adverse action without a reason`);
  }
  return {
    accountId: input.accountId,
    action,
    ruleId: action === "none" ? null : (matched?.id ?? null),
    urgency,
    adverse,
    recall: action === "freeze" && matched?.recall === true,
    fromLimit: line.limit,
    toLimit,
    fromStatus: line.status,
    toStatus,
    decidedAt: now,
    effectiveAt: urgency === "notice" ? addDays(now, g.noticeDays) : now,
    requiresReview: adverse && input.optOutAutomated,
    score: scored.score,
    pd: scored.pd,
    tier: tier.id,
    reasons,
    affordability,
    trace: {
      tier: tier.id,
      target,
      tierCap: tier.maxLimit,
      incomeLimit,
      targetGap,
      ruleMasks,
      matchedRule: matched?.id ?? null,
      guardrails,
    },
  };
}
