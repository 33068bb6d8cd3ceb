import { type CreditEventType, PROHIBITED_PURPOSES, type Region } from "../events.ts";
import { FEATURE_NAMES, type FeatureName } from "../features.ts";
import type { ComparisonOp, Condition, FactName, Policy, PolicyRule, RiskTier } from "../policy.ts";
import { compare, HARD_LINE_CAP } from "../policy.ts";
import { ADVERSE_ACTIONS, canGiveReasons, FACT_NAMES, isAgainstBorrower } from "./domain.ts";

/**
 * A policy version compiled once into typed arrays and closures: decide() reads numbers from a
 * fact vector and never looks at condition text, fact names or YAML at run time.
 */
export const FACT_INDEX: Readonly<Record<FactName, number>> = Object.fromEntries(
  FACT_NAMES.map((name, i) => [name, i]),
) as Record<FactName, number>;
export const FACT_COUNT = FACT_NAMES.length;
export const FEATURE_COUNT = FEATURE_NAMES.length;

const OP_CODE: Record<ComparisonOp, number> = { ">=": 0, ">": 1, "<=": 2, "<": 3, "==": 4, "!=": 5 };

export function opHolds(op: number, actual: number, value: number): boolean {
  switch (op) {
    case 0:
      return actual >= value;
    case 1:
      return actual > value;
    case 2:
      return actual <= value;
    case 3:
      return actual < value;
    case 4:
      return actual === value;
    default:
      return actual !== value;
  }
}

export function conditionHolds(c: Condition, actual: number): boolean {
  return compare(actual, c.op, c.value);
}

/** Conditions of many rows flattened: row r owns conditions start[r] .. start[r+1]-1. */
export interface ConditionTable {
  start: Int32Array;
  fact: Int32Array;
  op: Uint8Array;
  value: Float64Array;
}

function conditionTable(rows: readonly { when: readonly Condition[] }[]): ConditionTable {
  const total = rows.reduce((n, r) => n + r.when.length, 0);
  const table: ConditionTable = {
    start: new Int32Array(rows.length + 1),
    fact: new Int32Array(total),
    op: new Uint8Array(total),
    value: new Float64Array(total),
  };
  let k = 0;
  rows.forEach((row, r) => {
    table.start[r] = k;
    for (const c of row.when) {
      table.fact[k] = FACT_INDEX[c.fact];
      table.op[k] = OP_CODE[c.op];
      table.value[k] = c.value;
      k++;
    }
  });
  table.start[rows.length] = k;
  return table;
}

/** Bit i set when condition i of row `row` holds (rules have at most 31 conditions). */
export function rowMask(table: ConditionTable, row: number, facts: Float64Array): number {
  const end = table.start[row + 1] as number;
  let mask = 0;
  for (let k = table.start[row] as number, bit = 1; k < end; k++, bit <<= 1) {
    if (opHolds(table.op[k] as number, facts[table.fact[k] as number] as number, table.value[k] as number))
      mask |= bit;
  }
  return mask;
}

function rowHolds(table: ConditionTable, row: number, facts: Float64Array): boolean {
  const end = table.start[row + 1] as number;
  for (let k = table.start[row] as number; k < end; k++) {
    if (!opHolds(table.op[k] as number, facts[table.fact[k] as number] as number, table.value[k] as number))
      return false;
  }
  return true;
}

export interface CompiledPolicy {
  policy: Policy;
  /** Index of the matching tier row for a fact vector, or -1 when the table has a gap there. */
  tierIndex: (facts: Float64Array) => number;
  tiers: readonly RiskTier[];
  /** Per tier, per region (REGION order, then "no region"): income multiple x region factor x 10,000. */
  targetFactor: (tier: number, region: Region | undefined) => number;
  rules: ConditionTable;
  /** The mask a rule's conditions make when all hold. */
  fullMask: Int32Array;
  /** Per rule, the features its conditions hold against the borrower: its first principal reasons. */
  ruleReasonFeatures: readonly (readonly FeatureName[])[];
  /** Per rule, 1 when the score or the target gap drove it (reasons then add scorecard losses). */
  ruleScoreDriven: Uint8Array;
  lineCap: number;
  triggers: ReadonlySet<CreditEventType>;
  prohibitedPurposes: ReadonlySet<string>;
}

const MAX_CONDITIONS = 31;

function reasonFeatures(rule: PolicyRule): FeatureName[] {
  const features: FeatureName[] = [];
  for (const c of rule.when)
    if (isAgainstBorrower(c) && !features.includes(c.fact as FeatureName))
      features.push(c.fact as FeatureName);
  return features;
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  for (const r of policy.rules) {
    if (r.when.length > MAX_CONDITIONS) throw new Error(`rule ${r.id}: at most ${MAX_CONDITIONS} conditions`);
    if (ADVERSE_ACTIONS.has(r.action) && !canGiveReasons(r))
      throw new Error(`rule ${r.id}: an adverse rule needs a condition that can give the borrower a reason`);
  }
  const tiers = policy.tiers.rows;
  const tierTable = conditionTable(tiers);
  const tierIndex =
    policy.tiers.hitPolicy === "first"
      ? (facts: Float64Array) => {
          for (let t = 0; t < tiers.length; t++) if (rowHolds(tierTable, t, facts)) return t;
          return -1;
        }
      : (facts: Float64Array) => {
          let best = -1;
          for (let t = 0; t < tiers.length; t++) {
            if (
              rowHolds(tierTable, t, facts) &&
              (best < 0 || (tiers[t] as RiskTier).maxLimit < (tiers[best] as RiskTier).maxLimit)
            )
              best = t;
          }
          return best;
        };
  const factors = tiers.map((tier) => {
    const byRegion = new Map<Region | undefined, number>();
    byRegion.set(undefined, Math.round(tier.incomeMultiple * 10_000));
    for (const [region, factor] of Object.entries(policy.limit.regionFactors)) {
      byRegion.set(region as Region, Math.round(tier.incomeMultiple * (factor as number) * 10_000));
    }
    return byRegion;
  });
  const noRegion = factors.map((f) => f.get(undefined) as number);
  return {
    policy,
    tierIndex,
    tiers,
    targetFactor: (tier, region) => factors[tier]?.get(region) ?? (noRegion[tier] as number),
    rules: conditionTable(policy.rules),
    fullMask: Int32Array.from(policy.rules, (r) => (r.when.length === 31 ? -1 : (1 << r.when.length) - 1)),
    ruleReasonFeatures: policy.rules.map(reasonFeatures),
    ruleScoreDriven: Uint8Array.from(policy.rules, (r) =>
      r.when.some((c) => c.fact === "score" || c.fact === "targetGap") ? 1 : 0,
    ),
    lineCap: Math.min(policy.guardrails.lineCap, HARD_LINE_CAP),
    triggers: new Set(policy.triggers),
    prohibitedPurposes: new Set(policy.prohibitedPurposes ?? PROHIBITED_PURPOSES),
  };
}

/** floor(income x factor / 10,000) to whole yuan, exact in integers (BigInt past 2^53). */
export function incomeLimit(income: number, factor: number): number {
  const product = income * factor;
  if (Number.isSafeInteger(product)) return Math.floor(product / 1_000_000) * 100;
  return Number((BigInt(income) * BigInt(factor)) / 1_000_000n) * 100;
}

const compiledCache = new WeakMap<Policy, CompiledPolicy>();

/** The compiled form of a policy object, compiled on first use and kept while the policy lives. */
export function compiled(policy: Policy): CompiledPolicy {
  let c = compiledCache.get(policy);
  if (c === undefined) {
    c = compilePolicy(policy);
    compiledCache.set(policy, c);
  }
  return c;
}
