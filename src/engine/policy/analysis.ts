import type { Condition, FactName, Policy, PolicyRule } from "../policy.ts";
import { conditionHolds } from "./compile.ts";
import { domainOf } from "./domain.ts";
import { box, fullInterval, isEmpty, within } from "./intervals.ts";

/**
 * Static checks of a policy: gaps and overlaps in the risk-tier table, rules that can never fire
 * (contradictory conditions, or fully covered by an earlier rule in first-hit order). Findings name
 * the rows by id and by their path in the document, so the CLI can print their line.
 */
export interface PolicyFinding {
  kind: "tier-gap" | "tier-overlap" | "unreachable-rule" | "too-large";
  /** Paths of the rows concerned, e.g. tiers.rows.2 or rules.5. */
  paths: string[];
  rows: string[];
  /** A point where the problem shows, e.g. { score: 675 }. */
  example: Partial<Record<FactName, number>>;
  message: string;
}

const MAX_CELLS = 200_000;
const MAX_FINDINGS_PER_KIND = 20;

/** Values that land in every distinct cell the table's bounds cut a fact's domain into. */
function probes(fact: FactName, values: readonly number[]): number[] {
  const d = domainOf(fact);
  const out = new Set<number>();
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  for (const v of sorted) {
    if (d.integer)
      for (const x of [Math.floor(v) - 1, Math.floor(v), Math.ceil(v), Math.ceil(v) + 1]) out.add(x);
    else out.add(v);
  }
  if (!d.integer) {
    for (let i = 0; i + 1 < sorted.length; i++)
      out.add(((sorted[i] as number) + (sorted[i + 1] as number)) / 2);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    if (first !== undefined) out.add(first - 1);
    if (last !== undefined) out.add(last + 1);
  }
  if (sorted.length === 0) out.add(Number.isFinite(d.min) ? d.min : 0);
  return [...out].filter((x) => x >= d.min && x <= d.max).sort((a, b) => a - b);
}

function describe(point: Partial<Record<FactName, number>>): string {
  return Object.entries(point)
    .map(([f, v]) => `${f} = ${v}`)
    .join(", ");
}

function tierFindings(policy: Policy): PolicyFinding[] {
  const rows = policy.tiers.rows;
  const facts = [...new Set(rows.flatMap((r) => r.when.map((c) => c.fact)))];
  const axes = facts.map((f) =>
    probes(
      f,
      rows.flatMap((r) => r.when.filter((c) => c.fact === f).map((c) => c.value)),
    ),
  );
  const cells = axes.reduce((n, a) => n * a.length, 1);
  if (cells > MAX_CELLS) {
    return [
      {
        kind: "too-large",
        paths: ["tiers"],
        rows: [],
        example: {},
        message: `the tier table cuts ${facts.join(", ")} into ${cells} cells; at most ${MAX_CELLS} are checked`,
      },
    ];
  }
  const findings: PolicyFinding[] = [];
  const seen = new Set<string>();
  let previousKey = "";
  const point: Partial<Record<FactName, number>> = {};
  const visit = (axis: number) => {
    if (axis === facts.length) {
      const matching: number[] = [];
      rows.forEach((row, r) => {
        if (row.when.every((c) => conditionHolds(c, point[c.fact] as number))) matching.push(r);
      });
      const kind = matching.length === 0 ? "tier-gap" : "tier-overlap";
      const key = `${kind}:${matching.join(",")}`;
      const continues = key === previousKey;
      previousKey = matching.length === 1 ? "" : key;
      if (matching.length === 1) return;
      // One finding per run of gap cells and per set of overlapping rows, at its first point.
      if (
        continues ||
        seen.has(key) ||
        findings.filter((f) => f.kind === kind).length >= MAX_FINDINGS_PER_KIND
      )
        return;
      if (kind === "tier-overlap") seen.add(key);
      const ids = matching.map((r) => rows[r]?.id as string);
      findings.push({
        kind,
        paths: matching.length === 0 ? ["tiers.rows"] : matching.map((r) => `tiers.rows.${r}`),
        rows: ids,
        example: { ...point },
        message:
          matching.length === 0
            ? `no tier row covers ${describe(point)}`
            : `tier rows ${ids.join(" and ")} both match ${describe(point)}${policy.tiers.hitPolicy === "first" ? ` (first hit: ${ids[0]} wins)` : " (collect: the lowest cap wins)"}`,
      });
      return;
    }
    const fact = facts[axis] as FactName;
    for (const v of axes[axis] as number[]) {
      point[fact] = v;
      visit(axis + 1);
    }
    delete point[fact];
  };
  visit(0);
  return findings;
}

function covers(earlier: PolicyRule, later: PolicyRule): boolean {
  const outer = box(earlier.when);
  const inner = box(later.when);
  for (const [fact, interval] of outer) {
    if (!within(inner.get(fact) ?? fullInterval(fact), interval)) return false;
  }
  return true;
}

function ruleFindings(policy: Policy): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  policy.rules.forEach((rule, r) => {
    const empty = [...box(rule.when)].find(([, i]) => isEmpty(i));
    if (empty !== undefined) {
      findings.push({
        kind: "unreachable-rule",
        paths: [`rules.${r}`],
        rows: [rule.id],
        example: {},
        message: `rule ${rule.id} can never fire: its conditions on ${empty[0]} contradict each other`,
      });
      return;
    }
    const earlier = policy.rules.slice(0, r).findIndex((e) => covers(e, rule));
    if (earlier >= 0) {
      const e = policy.rules[earlier] as PolicyRule;
      findings.push({
        kind: "unreachable-rule",
        paths: [`rules.${r}`, `rules.${earlier}`],
        rows: [rule.id, e.id],
        example: {},
        message: `rule ${rule.id} can never fire: every account it matches is taken first by rule ${e.id}`,
      });
    }
  });
  return findings;
}

export function checkPolicy(policy: Policy): PolicyFinding[] {
  return [...tierFindings(policy), ...ruleFindings(policy)];
}

/** Why and why not: for every rule, the conditions that held and those that failed. */
export interface RuleExplanation {
  ruleId: string;
  fired: boolean;
  held: Condition[];
  failed: Condition[];
}

/** Reads a decision's trace (ruleMasks) back into conditions, rule by rule, in policy order. */
export function explainRules(
  policy: Policy,
  ruleMasks: readonly number[],
  firedRule: string | null,
): RuleExplanation[] {
  return policy.rules.map((rule, r) => {
    const mask = ruleMasks[r] ?? 0;
    return {
      ruleId: rule.id,
      fired: rule.id === firedRule,
      held: rule.when.filter((_, i) => (mask & (1 << i)) !== 0),
      failed: rule.when.filter((_, i) => (mask & (1 << i)) === 0),
    };
  });
}
