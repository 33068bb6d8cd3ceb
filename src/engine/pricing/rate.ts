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
  const base = pricing.tierRates[tier];
  if (base === undefined) throw new RangeError(`${pricing.product}: no rate for tier ${tier}`);
  const basis = [`tier ${tier}: ${base} bps`];
  let rate = base;
  for (const a of pricing.adjustments) {
    if (holdsAll(a.when, facts)) {
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
  if (policy.pricing === undefined) return product;
  return { ...product, tierRates: policy.pricing.tierRates, adjustments: policy.pricing.adjustments };
}
