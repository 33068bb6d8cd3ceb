import type { Region } from "./events.ts";
import { FEATURE_NAMES, type FeatureName, type Features } from "./features.ts";
import type { ModelScore, Scorer } from "./model.ts";
import { type Fen, floorToYuan } from "./money.ts";
import {
  type CompiledPolicy,
  compiled,
  FACT_COUNT,
  FACT_INDEX,
  incomeLimit,
  rowMask,
} from "./policy/compile.ts";
import type { LineAction, Policy, PolicyRule, RiskTier, Urgency } from "./policy.ts";
import { MAX_REASONS, type Reason, reasonFor } from "./reasons.ts";
import { addDays, daysBetween, type EpochMs } from "./time.ts";

export type LineStatus = "ACTIVE" | "FROZEN" | "CLOSED";

export type DecisionTrigger =
  | { kind: "event"; eventId: string; eventType: string }
  | { kind: "review"; runId: string }
  | {
      kind: "analyst";
      actor: string;
      /**
       * An increase already announced with notice (its notice period served) that is being decided
       * again, as the budget queue does when room frees: it may take effect at once, up to the limit
       * the notice gave. Anything beyond that would need a notice of its own.
       */
      announced?: { decisionId: string; toLimit: Fen };
    };

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
  /** Region of the borrower, for the limit formula's region factor (factor 1 when absent). */
  region?: Region;
  /**
   * Monthly income and obligations (fen) and whether the income is verified. `obligationsKnown`
   * is false when external obligations could not be read (no bureau data): no increase then.
   */
  affordability: { income: Fen; verified: boolean; obligations: Fen; obligationsKnown?: boolean };
  optOutAutomated: boolean;
  trigger: DecisionTrigger;
  /** Class-wide measures in force for this borrower's class (absent: none). */
  classMeasures?: ClassMeasures;
}

/**
 * Measures an analyst sets for a whole class of borrowers, not for anyone personally: the risk
 * factor of the borrower's region and the portfolio stress multiplier. Both multiply the target
 * limit (below 1 tightens, above 1 loosens), after the policy's own region factor.
 */
export interface ClassMeasures {
  regionFactor: number;
  stressMultiplier: number;
}

/** A decision the class-wide measures made: without them it would not have been taken (or not as far). */
export interface ClassWide {
  regionFactor: number;
  stressMultiplier: number;
  /** What the decision would have been without the measures. */
  withoutMeasures: { action: LineAction; toLimit: Fen; toStatus: LineStatus };
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
  /** The policy version that decided: the champion's, a challenger's or a shadow's. */
  policyVersion: string;
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
  /** Set when class-wide measures (regional risk, portfolio stress) made this decision. */
  classWide?: ClassWide;
  trace: DecisionTrace;
}

export interface DecisionContext {
  policy: Policy;
  scorer: Scorer;
  /**
   * A new model version is phasing in: limit changes in one decision are capped at the policy's
   * phaseInMaxChange so a new model cannot move many limits a long way at once.
   */
  phaseIn?: boolean;
}

const ADVERSE: ReadonlySet<LineAction> = new Set(["decrease", "freeze", "close"]);
const SCORE = FACT_INDEX.score;
const FROZEN = FACT_INDEX.frozen;
const CLOSED = FACT_INDEX.closed;
const TARGET_GAP = FACT_INDEX.targetGap;

/** The fact vector of the decision in progress: decide() is synchronous, so one buffer serves all. */
const facts = new Float64Array(FACT_COUNT);

function hasReason(reasons: readonly Reason[], feature: FeatureName): boolean {
  for (const r of reasons) if (r.feature === feature) return true;
  return false;
}

/**
 * Principal reasons: the features the fired rule held against the borrower first (found at compile
 * time), then the features that lost the most scorecard points when the score or the target drove
 * the decision. Picks the top losses by selection (ties in model order): no sort, no closures.
 */
function principalReasons(
  cp: CompiledPolicy,
  rule: number,
  features: Features,
  scored: ModelScore,
  incomeLimited: boolean,
): Reason[] {
  const reasons: Reason[] = [];
  for (const feature of cp.ruleReasonFeatures[rule] as FeatureName[]) {
    if (reasons.length >= MAX_REASONS) return reasons;
    reasons.push(reasonFor(feature, features[feature], null));
  }
  if (cp.ruleScoreDriven[rule] !== 1) return reasons;
  if (incomeLimited && reasons.length < MAX_REASONS && !hasReason(reasons, "monthlyIncome"))
    reasons.push(reasonFor("monthlyIncome", features.monthlyIncome, null));
  addScoreReasons(reasons, features, scored);
  return reasons;
}

/**
 * Adds, up to MAX_REASONS, the features that lost the most scorecard points and are not yet
 * among `reasons` (pricing gives the same reasons when a worse tier raises a rate).
 */
export function addScoreReasons(reasons: Reason[], features: Features, scored: ModelScore): void {
  const contributions = scored.contributions;
  while (reasons.length < MAX_REASONS) {
    let best = -1;
    let bestLoss = 0;
    for (let i = 0; i < contributions.length; i++) {
      const c = contributions[i] as ModelScore["contributions"][number];
      const loss = c.maxPoints - c.points;
      if (loss > bestLoss && !hasReason(reasons, c.feature)) {
        best = i;
        bestLoss = loss;
      }
    }
    if (best < 0) break;
    const c = contributions[best] as ModelScore["contributions"][number];
    reasons.push(reasonFor(c.feature, features[c.feature], bestLoss));
  }
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
    passed:
      income > 0 &&
      input.affordability.obligationsKnown !== false &&
      debtToIncomeAfter <= g.maxDebtToIncomeAfterIncrease,
  };
}

/** Fills the fact vector from the features and the line; returns nothing, allocates nothing. */
function loadFacts(features: Features, score: number, status: LineStatus): void {
  for (let i = 0; i < FEATURE_NAMES.length; i++) facts[i] = features[FEATURE_NAMES[i] as FeatureName];
  facts[SCORE] = score;
  facts[FROZEN] = status === "FROZEN" ? 1 : 0;
  facts[CLOSED] = status === "CLOSED" ? 1 : 0;
}

/** The risk tier of an account outside a decision (pricing, portfolio views), from the same compiled table. */
export function tierFor(
  policy: Policy,
  features: Features,
  score: number,
  status: LineStatus = "ACTIVE",
): RiskTier {
  const cp = compiled(policy);
  loadFacts(features, score, status);
  const tier = cp.tiers[cp.tierIndex(facts)];
  if (tier === undefined) throw new Error(`policy ${policy.version}: no risk tier covers score ${score}`);
  return tier;
}

function classFactor(input: DecisionInput): number {
  const m = input.classMeasures;
  return m === undefined ? 1 : m.regionFactor * m.stressMultiplier;
}

/**
 * The pure decision: (inputs, policy, model, now) -> decision. No I/O, no clock; the same input
 * replays to the same decision. The policy runs in its compiled form (policy/compile.ts).
 * When class-wide measures are in force and the decision is less favourable than it would be
 * without them, the decision says so (`classWide`): the borrower is told it is a portfolio-wide
 * or regional measure, not a judgement about them.
 */
export function decide(input: DecisionInput, ctx: DecisionContext, now: EpochMs): Decision {
  const decision = decideOnce(input, ctx, now);
  const m = input.classMeasures;
  if (m === undefined || classFactor(input) === 1 || decision.action === "none") return decision;
  const { classMeasures: _, ...personal } = input;
  const without = decideOnce(personal, ctx, now);
  const harsher =
    decision.toLimit < without.toLimit ||
    (decision.action !== without.action && (decision.adverse || without.action === "increase"));
  if (!harsher) return decision;
  return {
    ...decision,
    classWide: {
      regionFactor: m.regionFactor,
      stressMultiplier: m.stressMultiplier,
      withoutMeasures: { action: without.action, toLimit: without.toLimit, toStatus: without.toStatus },
    },
  };
}

/** The increase this decision re-decides whose notice was already served, if any. */
function announcedIncrease(input: DecisionInput): { decisionId: string; toLimit: Fen } | null {
  return input.trigger.kind === "analyst" ? (input.trigger.announced ?? null) : null;
}

function decideOnce(input: DecisionInput, ctx: DecisionContext, now: EpochMs): Decision {
  const { policy } = ctx;
  const cp: CompiledPolicy = compiled(policy);
  const g = policy.guardrails;
  const line = input.line;
  const announced = announcedIncrease(input);
  const scored = ctx.scorer(input.features);
  loadFacts(input.features, scored.score, line.status);
  const tierAt = cp.tierIndex(facts);
  const tier = cp.tiers[tierAt];
  if (tier === undefined)
    throw new Error(`policy ${policy.version}: no risk tier covers score ${scored.score}`);
  const incomeCap = incomeLimit(input.affordability.income, cp.targetFactor(tierAt, input.region));
  const personalTarget = Math.min(tier.maxLimit, incomeCap, cp.lineCap);
  const factor = classFactor(input);
  const target = factor === 1 ? personalTarget : floorToYuan(personalTarget * factor);
  const rawGap = line.limit > 0 ? (target - line.limit) / line.limit : target > 0 ? 1 : 0;
  const targetGap = Math.abs(rawGap) <= g.hysteresis ? 0 : rawGap;
  facts[TARGET_GAP] = targetGap;

  const rules = policy.rules;
  const ruleMasks: number[] = new Array(rules.length);
  let matchedAt = -1;
  for (let r = 0; r < rules.length; r++) {
    const mask = rowMask(cp.rules, r, facts);
    ruleMasks[r] = mask;
    if (matchedAt < 0 && mask === cp.fullMask[r]) matchedAt = r;
  }
  const matched: PolicyRule | null = matchedAt < 0 ? null : (rules[matchedAt] as PolicyRule);

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
      if (ctx.phaseIn === true && matched.urgency !== "urgent") {
        const phaseFloor = floorToYuan(Math.ceil(line.limit * (1 - g.phaseInMaxChange)));
        if (toLimit < phaseFloor) {
          guardrails.push(`phase-in: cut held at ${phaseFloor} while the new model phases in`);
          toLimit = phaseFloor;
        }
      }
      if (toLimit >= line.limit) action = "none";
    } else if (action === "increase") {
      const stepCap = floorToYuan(line.limit * (1 + g.maxIncreaseRatio));
      toLimit = Math.min(proposed, line.limit > 0 ? stepCap : proposed, cp.lineCap);
      if (announced !== null && toLimit > announced.toLimit) {
        guardrails.push(
          `announced: held at ${announced.toLimit}, the limit ${announced.decisionId} gave notice of`,
        );
        toLimit = announced.toLimit;
      }
      if (ctx.phaseIn === true) {
        const phaseCap = floorToYuan(line.limit * (1 + g.phaseInMaxChange));
        if (toLimit > phaseCap) {
          guardrails.push(`phase-in: increase held at ${phaseCap} while the new model phases in`);
          toLimit = phaseCap;
        }
      }
      affordability = affordabilityFor(input, policy, toLimit);
      if (input.affordability.income <= 0 || input.affordability.obligationsKnown === false) {
        guardrails.push("ability-to-pay-data: no increase without income and obligations data");
      } else if (!affordability.passed) {
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
  if (toLimit > cp.lineCap) {
    guardrails.push(`line-cap: ${cp.lineCap}`);
    toLimit = cp.lineCap;
  }
  if (action === "none") {
    toLimit = line.limit;
    toStatus = line.status;
  }

  let reasons: Reason[] = [];
  if (ADVERSE.has(action) && matched !== null) {
    reasons = principalReasons(cp, matchedAt, input.features, scored, incomeCap < tier.maxLimit);
    if (reasons.length === 0) {
      // A score-driven rule where no feature lost points: no adverse action without a reason.
      guardrails.push(`no-reason: ${action} held, no principal reason to give`);
      action = "none";
      toLimit = line.limit;
      toStatus = line.status;
    }
  }
  const adverse = ADVERSE.has(action);
  const urgency = action === "none" || matched === null ? null : matched.urgency;
  return {
    accountId: input.accountId,
    policyVersion: policy.version,
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
    effectiveAt:
      urgency === "notice" && !(action === "increase" && announced !== null)
        ? addDays(now, matched?.noticeDays ?? g.noticeDays)
        : now,
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
      incomeLimit: incomeCap,
      targetGap,
      ruleMasks,
      matchedRule: matched?.id ?? null,
      guardrails,
    },
  };
}
