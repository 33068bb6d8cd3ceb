import type { Condition, Policy } from "../../src/engine/policy.ts";
import { factsUsed } from "./conditions.ts";

/**
 * The same policy as a GoRules JDM decision graph: a first-hit decision table for the risk tier, a
 * table for the region factor, expression nodes for the target-limit formula and hysteresis, and a
 * first-hit decision table for the rules. Built from the policy data so the two cannot drift.
 */
function cell(conditions: readonly Condition[]): string {
  return conditions.map((c) => `$ ${c.op} ${c.value}`).join(" and ");
}

function table(
  id: string,
  rows: readonly { when: readonly Condition[]; outputs: Record<string, string> }[],
  outputFields: readonly string[],
) {
  const facts = factsUsed(rows);
  return {
    id,
    name: id,
    type: "decisionTableNode",
    position: { x: 0, y: 0 },
    content: {
      hitPolicy: "first",
      passThrough: true,
      inputField: null,
      outputPath: null,
      executionMode: "single",
      inputs: facts.map((f): { id: string; name: string; field: string } => ({
        id: `${id}-in-${f}`,
        name: f,
        field: f,
      })),
      outputs: outputFields.map((o) => ({ id: `${id}-out-${o}`, name: o, field: o })),
      rules: rows.map((row, r) => {
        const entry: Record<string, string> = { _id: `${id}-${r}` };
        for (const f of facts) entry[`${id}-in-${f}`] = cell(row.when.filter((c) => c.fact === f));
        for (const o of outputFields) entry[`${id}-out-${o}`] = row.outputs[o] ?? "null";
        return entry;
      }),
    },
  };
}

function expressions(id: string, exprs: Record<string, string>) {
  return {
    id,
    name: id,
    type: "expressionNode",
    position: { x: 0, y: 0 },
    content: {
      passThrough: true,
      inputField: null,
      outputPath: null,
      executionMode: "single",
      expressions: Object.entries(exprs).map(([key, value], i) => ({ id: `${id}-${i}`, key, value })),
    },
  };
}

/** The region factor table matches the region string, not a numeric fact. */
function regionTable(policy: Policy) {
  const node = table("region", [], ["regionFactor"]);
  node.content.inputs = [{ id: "region-in", name: "region", field: "region" }];
  node.content.rules = Object.entries(policy.limit.regionFactors).map(([name, factor], r) => ({
    _id: `region-${r}`,
    "region-in": `'${name}'`,
    "region-out-regionFactor": String(factor),
  }));
  return node;
}

export function zenGraph(policy: Policy): object {
  const g = policy.guardrails;
  const nodes = [
    { id: "request", name: "request", type: "inputNode", position: { x: 0, y: 0 }, content: { schema: "" } },
    table(
      "tier",
      policy.tiers.rows.map((t) => ({
        when: t.when,
        outputs: { tierId: `'${t.id}'`, tierCap: String(t.maxLimit), tierMultiple: String(t.incomeMultiple) },
      })),
      ["tierId", "tierCap", "tierMultiple"],
    ),
    regionTable(policy),
    expressions("factor", { factor: "round(tierMultiple * (regionFactor ?? 1) * 10000)" }),
    expressions("target", {
      target: `min([tierCap, floor(income * factor / 1000000) * 100, ${Math.min(g.lineCap, 20_000_000)}])`,
    }),
    expressions("gap", {
      rawGap: "limit > 0 ? (target - limit) / limit : (target > 0 ? 1 : 0)",
    }),
    expressions("hysteresis", { targetGap: `abs(rawGap) <= ${g.hysteresis} ? 0 : rawGap` }),
    table(
      "rules",
      policy.rules.map((r) => ({ when: r.when, outputs: { ruleId: `'${r.id}'`, action: `'${r.action}'` } })),
      ["ruleId", "action"],
    ),
    { id: "response", name: "response", type: "outputNode", position: { x: 0, y: 0 }, content: {} },
  ];
  const order = nodes.map((n) => n.id);
  const edges = order.slice(1).map((target, i) => ({
    id: `e${i}`,
    sourceId: order[i] as string,
    targetId: target,
    type: "edge",
  }));
  return { nodes, edges };
}
