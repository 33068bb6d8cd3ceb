import type { Policy } from "../policy.ts";
import { checkPolicy, type PolicyFinding } from "./analysis.ts";
import { locate, type PolicyProblem, parsePolicyYaml } from "./document.ts";

export interface LocatedFinding extends PolicyFinding {
  /** Where each path's row starts in the document. */
  lines: number[];
}

export interface PolicyLint {
  policy: Policy | null;
  /** Schema and YAML problems: the document is not a policy. */
  problems: PolicyProblem[];
  /** Analysis findings: the policy is well formed but has gaps, overlaps or dead rules. */
  findings: LocatedFinding[];
}

/** Everything `headroom policy check` reports and the save path refuses, for one document. */
export function lintPolicy(text: string): PolicyLint {
  const parsed = parsePolicyYaml(text);
  if (!parsed.ok) return { policy: null, problems: parsed.problems, findings: [] };
  const findings = checkPolicy(parsed.policy).map((f) => ({
    ...f,
    lines: f.paths.map((p) => locate(text, p).line),
  }));
  return { policy: parsed.policy, problems: [], findings };
}

export function lintMessages(file: string, lint: PolicyLint): string[] {
  return [
    ...lint.problems.map((p) => `${file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ""}${p.message}`),
    ...lint.findings.map(
      (f) =>
        `${file}:${f.lines[0] ?? 1} ${f.kind}: ${f.message} (${f.paths.map((p, i) => `${p} at line ${f.lines[i]}`).join(", ")})`,
    ),
  ];
}
