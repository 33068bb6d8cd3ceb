import { addScoreReasons } from "../decide.ts";
import { FEATURES, type FeatureName, type Features } from "../features.ts";
import type { ModelScore } from "../model.ts";
import { formatYuan } from "../money.ts";
import type { Condition, Policy } from "../policy.ts";
import { MAX_REASONS, type Reason, reasonFor } from "../reasons.ts";
import type { Recourse } from "../recourse.ts";
import type { EpochMs } from "../time.ts";
import { adjustmentBasis, holdsAll, type PricingPolicy, type RateFacts } from "./rate.ts";
import type { Bps } from "./schedule.ts";

/** The rate new drawdowns on a line are priced at, and where it came from. */
export interface LineRate {
  rate: Bps;
  tier: string;
  basis: string[];
  policyVersion: string;
  product: string;
}

/** A line's rate in force, and an announced increase waiting out its notice period. */
export interface LineRateTerms extends LineRate {
  pending: { decisionId: string; rate: Bps; effectiveAt: EpochMs } | null;
}

/**
 * What a re-decision does to a line's rate. A lower rate applies at once; a higher one is an
 * adverse action announced with notice (the line keeps its rate until then); an announcement
 * is withdrawn when the rate it raised to is no longer what the line prices at.
 */
export type RateStep =
  | { kind: "keep" }
  /** The line had no rate yet: it takes the one priced now, as its first drawdown would. */
  | { kind: "pin" }
  | { kind: "cancel_pending" }
  | { kind: "decrease"; cancelPending: boolean }
  | { kind: "increase"; cancelPending: boolean };

export function nextRate(current: LineRateTerms | null, offered: Bps): RateStep {
  if (current === null) return { kind: "pin" };
  const pending = current.pending;
  if (offered < current.rate) return { kind: "decrease", cancelPending: pending !== null };
  if (offered === current.rate) return pending === null ? { kind: "keep" } : { kind: "cancel_pending" };
  // One announcement at a time: a further rise waits until this one has taken effect.
  if (pending !== null && offered >= pending.rate) return { kind: "keep" };
  return { kind: "increase", cancelPending: pending !== null };
}

function isFeature(fact: string): fact is FeatureName {
  return fact in FEATURES;
}

/**
 * Principal reasons for a higher rate: the conditions of discounts the line lost, of surcharges
 * it gained, and, when the risk tier got worse, the features that lost the most scorecard points.
 * Empty means no reason can be given, and then the rate does not go up.
 */
export function rateIncreaseReasons(
  pricing: PricingPolicy,
  from: LineRate,
  to: LineRate,
  features: Features,
  scored: ModelScore,
): Reason[] {
  const facts: RateFacts = { ...features, score: scored.score };
  const reasons: Reason[] = [];
  const add = (c: Condition) => {
    if (!isFeature(c.fact) || reasons.length >= MAX_REASONS) return;
    if (reasons.some((r) => r.feature === c.fact)) return;
    reasons.push(reasonFor(c.fact, features[c.fact], null));
  };
  for (const a of pricing.adjustments) {
    const line = adjustmentBasis(a);
    const before = from.basis.includes(line);
    const now = to.basis.includes(line);
    if (a.delta < 0 && before && !now) for (const c of a.when) if (!holdsAll([c], facts)) add(c);
    if (a.delta > 0 && !before && now) for (const c of a.when) add(c);
  }
  if (to.tier !== from.tier) addScoreReasons(reasons, features, scored);
  return reasons;
}

const OPS: Record<Condition["op"], string> = {
  ">=": "≥",
  ">": ">",
  "<=": "≤",
  "<": "<",
  "==": "=",
  "!=": "≠",
};

function phrase(c: Condition, lang: "en" | "zh"): string {
  if (!isFeature(c.fact))
    return `${lang === "en" ? c.fact : c.fact === "score" ? "评分" : c.fact} ${OPS[c.op]} ${c.value}`;
  const def = FEATURES[c.fact];
  const label = (lang === "en" ? def.en : def.zh).replace(" (fen)", "").replace("（分）", "");
  const value =
    def.unit === "fen" ? `${formatYuan(c.value)}${lang === "en" ? " yuan" : "元"}` : String(c.value);
  return `${label} ${OPS[c.op]} ${value}`;
}

export const percent = (rate: Bps) => `${(rate / 100).toFixed(2)}%`;

/**
 * The way back from a rate increase: the conditions of the tier and the discounts the line had.
 * Met before the increase takes effect, the next review withdraws it; met later, the next review
 * lowers the rate at once.
 */
export function rateRecourse(
  policy: Policy,
  pricing: PricingPolicy,
  from: LineRate,
  to: LineRate,
  effectiveAt: EpochMs,
): Recourse {
  const conditions: Condition[] = [];
  if (from.tier !== to.tier) {
    const tier = policy.tiers.rows.find((t) => t.id === from.tier);
    if (tier !== undefined) conditions.push(...tier.when);
  }
  for (const a of pricing.adjustments) {
    if (a.delta < 0 && from.basis.includes(adjustmentBasis(a)) && !to.basis.includes(adjustmentBasis(a)))
      conditions.push(...a.when);
  }
  const date = new Date(effectiveAt).toISOString().slice(0, 10);
  const en = conditions.map((c) => phrase(c, "en")).join("; ");
  const zh = conditions.map((c) => phrase(c, "zh")).join("；");
  const available = conditions.length > 0;
  return {
    goal: "keep",
    available,
    plan: null,
    steps: [],
    by: effectiveAt,
    outcome: null,
    en: available
      ? `Your rate goes back to ${percent(from.rate)} when a review finds: ${en}. Met before ${date}, the increase is withdrawn; met later, the lower rate applies at once.`
      : `We cannot name a change that brings your rate back to ${percent(from.rate)}; you can appeal before ${date}.`,
    zh: available
      ? `当复核显示以下条件满足时，您的利率将恢复为${percent(from.rate)}：${zh}。若在${date}前满足，此次上调将撤回；之后满足，较低利率立即生效。`
      : `我们无法给出使利率恢复为${percent(from.rate)}的具体调整；您可在${date}前申诉。`,
  };
}
