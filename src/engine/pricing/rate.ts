import { type Condition, compare, type Policy } from "../policy.ts";
import type { Bps } from "./schedule.ts";

/**
 * How a policy prices credit: a base rate per risk tier, adjustments for feature conditions, all
 * inside the legal floor and ceiling of the product (e.g. a 24% APR ceiling). The bounds are
 * applied last, so no policy can ever produce a rate outside them.
 */
export interface PricingPolicy {
  product: string;
  floor: Bps;
  ceiling: Bps;
  tierRates: Record<string, Bps>;
  adjustments: RateAdjustment[];
}

export interface RateAdjustment {
  id: string;
  description: string;
  when: Condition[];
  delta: Bps;
}

export interface PricedRate {
  rate: Bps;
  /** Why this rate: the tier's base, each adjustment that applied, and any bound that cut in. */
  basis: string[];
}

export type RateFacts = Readonly<Record<string, number>>;

export function validatePricing(pricing: PricingPolicy): void {
  const whole = (v: number) => Number.isInteger(v);
  if (
    !whole(pricing.floor) ||
    !whole(pricing.ceiling) ||
    pricing.floor < 0 ||
    pricing.floor > pricing.ceiling
  ) {
    throw new RangeError(`${pricing.product}: floor and ceiling must be whole bps with floor <= ceiling`);
  }
  for (const [tier, rate] of Object.entries(pricing.tierRates)) {
    if (!whole(rate) || rate < 0)
      throw new RangeError(`${pricing.product}: tier ${tier} rate must be whole bps`);
  }
  for (const a of pricing.adjustments) {
    if (!whole(a.delta)) throw new RangeError(`${pricing.product}: adjustment ${a.id} must be whole bps`);
  }
}

function holds(c: Condition, facts: RateFacts): boolean {
  const v = facts[c.fact];
  return v !== undefined && compare(v, c.op, c.value);
}

/** How an adjustment reads in a rate's basis (rate changes compare bases by these lines). */
export function adjustmentBasis(a: RateAdjustment): string {
  return `${a.id} (${a.description}): ${a.delta > 0 ? "+" : ""}${a.delta} bps`;
}

export function holdsAll(when: readonly Condition[], facts: RateFacts): boolean {
  return when.every((c) => holds(c, facts));
}

export function priceRate(pricing: PricingPolicy, tier: string, facts: RateFacts): PricedRate {
  return priceHolding(pricing, tier, (i) => holdsAll((pricing.adjustments[i] as RateAdjustment).when, facts));
}

/** The rate of a tier with the adjustments `holds` names applied, inside the floor and ceiling. */
function priceHolding(
  pricing: PricingPolicy,
  tier: string,
  holds: (adjustment: number) => boolean,
): PricedRate {
  const base = pricing.tierRates[tier];
  if (base === undefined) throw new RangeError(`${pricing.product}: no rate for tier ${tier}`);
  const basis = [`tier ${tier}: ${base} bps`];
  let rate = base;
  for (let i = 0; i < pricing.adjustments.length; i++) {
    const a = pricing.adjustments[i] as RateAdjustment;
    if (holds(i)) {
      rate += a.delta;
      basis.push(adjustmentBasis(a));
    }
  }
  if (rate > pricing.ceiling) {
    basis.push(`capped at the legal ceiling of ${pricing.ceiling} bps`);
    rate = pricing.ceiling;
  }
  if (rate < pricing.floor) {
    basis.push(`raised to the floor of ${pricing.floor} bps`);
    rate = pricing.floor;
  }
  return { rate, basis };
}

/** A tier's price for each set of adjustments that hold, per pricing policy (frozen, shared). */
const pricedByHolding = new WeakMap<PricingPolicy, Map<string, PricedRate>>();
/** The set of adjustments that hold is a bit mask up to this many; more are priced afresh. */
const MAX_MEMO_ADJUSTMENTS = 30;

/**
 * priceRate on a line's features and its score, without a facts object per call: the price
 * depends only on the tier and on which adjustments hold, so each pair is worked out once per
 * pricing policy (taken as immutable, as every policy is once loaded) and the frozen result
 * shared. A fact neither a feature nor the score holds nothing, as in priceRate.
 */
export function priceFeatures(
  pricing: PricingPolicy,
  tier: string,
  features: Readonly<Record<string, number>>,
  score: number,
): PricedRate {
  const adjustments = pricing.adjustments;
  if (adjustments.length > MAX_MEMO_ADJUSTMENTS) return priceRate(pricing, tier, { ...features, score });
  let holding = 0;
  for (let i = 0; i < adjustments.length; i++) {
    let all = true;
    for (const c of (adjustments[i] as RateAdjustment).when) {
      const v = c.fact === "score" ? score : features[c.fact];
      if (v === undefined || !compare(v, c.op, c.value)) {
        all = false;
        break;
      }
    }
    if (all) holding |= 1 << i;
  }
  let memo = pricedByHolding.get(pricing);
  if (memo === undefined) {
    memo = new Map();
    pricedByHolding.set(pricing, memo);
  }
  const key = `${holding}:${tier}`;
  let priced = memo.get(key);
  if (priced === undefined) {
    const fresh = priceHolding(pricing, tier, (i) => (holding & (1 << i)) !== 0);
    priced = Object.freeze({ rate: fresh.rate, basis: Object.freeze(fresh.basis) as string[] });
    memo.set(key, priced);
  }
  return priced;
}

/** The default consumer pricing: 24% APR ceiling, better terms for better tiers. */
export const DEFAULT_PRICING: PricingPolicy = {
  product: "consumer-revolving",
  floor: 720,
  ceiling: 2400,
  tierRates: { A: 1080, B: 1440, C: 1800, D: 2160, E: 2400 },
  adjustments: [
    {
      id: "clean-record",
      description: "no late repayment in 12 months",
      when: [{ fact: "overdueCount12m", op: "==", value: 0 }],
      delta: -120,
    },
    {
      id: "long-relationship",
      description: "two years or more on book",
      when: [{ fact: "monthsOnBook", op: ">=", value: 24 }],
      delta: -60,
    },
  ],
};

/**
 * The pricing a policy version decides with: its own tier rates and adjustments when it sets them,
 * else the product's; always inside the product's legal floor and ceiling.
 */
export function pricingFor(product: PricingPolicy, policy: Pick<Policy, "pricing">): PricingPolicy {
  const own = policy.pricing;
  if (own === undefined) return product;
  const made = pricingOfPolicy.get(own);
  if (made?.product === product) return made.pricing;
  const pricing = { ...product, tierRates: own.tierRates, adjustments: own.adjustments };
  pricingOfPolicy.set(own, { product, pricing });
  return pricing;
}

/** The pricing made for a policy's own terms, kept so each line re-priced reuses it (and its memo). */
const pricingOfPolicy = new WeakMap<
  NonNullable<Policy["pricing"]>,
  { product: PricingPolicy; pricing: PricingPolicy }
>();
