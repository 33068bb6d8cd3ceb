import { Engine, type RuleProperties } from "json-rules-engine";
import type { Condition, Policy } from "../../src/engine/policy.ts";

/**
 * The same policy in json-rules-engine: one engine picks the risk tier (rows as rules, priority in
 * table order, first hit = highest priority that fired), the target-limit arithmetic (which
 * json-rules-engine cannot express) runs in plain JS, and a second engine fires the policy rules.
 */
const OPERATOR: Record<Condition["op"], string> = {
  ">=": "greaterThanInclusive",
  ">": "greaterThan",
  "<=": "lessThanInclusive",
  "<": "lessThan",
  "==": "equal",
  "!=": "notEqual",
};

function rulesOf(
  rows: readonly { id: string; when: readonly Condition[] }[],
  type: string,
): RuleProperties[] {
  return rows.map((row, i) => ({
    name: row.id,
    priority: rows.length - i,
    conditions: { all: row.when.map((c) => ({ fact: c.fact, operator: OPERATOR[c.op], value: c.value })) },
    event: { type, params: { index: i } },
  }));
}

export interface JreFacts {
  [fact: string]: number | string;
  income: number;
  limit: number;
  region: string;
}

export function jsonRulesDecider(policy: Policy) {
  const tierEngine = new Engine(rulesOf(policy.tiers.rows, "tier"), { allowUndefinedFacts: true });
  const ruleEngine = new Engine(rulesOf(policy.rules, "rule"), { allowUndefinedFacts: true });
  const g = policy.guardrails;
  const firstHit = (events: { params?: Record<string, unknown> }[]) => {
    let best = Number.POSITIVE_INFINITY;
    for (const e of events) best = Math.min(best, e.params?.index as number);
    return best === Number.POSITIVE_INFINITY ? -1 : best;
  };
  return async (facts: JreFacts): Promise<{ tier: string; target: number; ruleId: string | null }> => {
    const tierAt = firstHit((await tierEngine.run(facts)).events);
    const tier = policy.tiers.rows[tierAt];
    if (tier === undefined) throw new Error("no tier");
    const regionFactor =
      policy.limit.regionFactors[facts.region as keyof Policy["limit"]["regionFactors"]] ?? 1;
    const factor = Math.round(tier.incomeMultiple * regionFactor * 10_000);
    const target = Math.min(tier.maxLimit, Math.floor((facts.income * factor) / 1_000_000) * 100, g.lineCap);
    const rawGap = facts.limit > 0 ? (target - facts.limit) / facts.limit : target > 0 ? 1 : 0;
    const targetGap = Math.abs(rawGap) <= g.hysteresis ? 0 : rawGap;
    const ruleAt = firstHit((await ruleEngine.run({ ...facts, targetGap })).events);
    return { tier: tier.id, target, ruleId: policy.rules[ruleAt]?.id ?? null };
  };
}
