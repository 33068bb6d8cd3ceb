import type { Condition, FactName } from "../../src/engine/policy.ts";

/** The facts a list of condition rows reads, in first-use order: one table column each. */
export function factsUsed(rows: readonly { when: readonly Condition[] }[]): FactName[] {
  const facts: FactName[] = [];
  for (const row of rows) for (const c of row.when) if (!facts.includes(c.fact)) facts.push(c.fact);
  return facts;
}
