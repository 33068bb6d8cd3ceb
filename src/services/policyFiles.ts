import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type PolicyProblem, parsePolicyYaml } from "../engine/policy/document.ts";
import type { Policy } from "../engine/policy.ts";

/** Where the shipped policies live: policies/ at the repository root. */
export const DEFAULT_POLICY_PATH = fileURLToPath(new URL("../../policies/default.yaml", import.meta.url));

export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: PolicyProblem[],
  ) {
    super(
      problems
        .map((p) => `${file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ""}${p.message}`)
        .join("\n"),
    );
  }
}

export function readPolicyFile(file: string): { text: string; policy: Policy } {
  const text = readFileSync(file, "utf8");
  const parsed = parsePolicyYaml(text);
  if (!parsed.ok) throw new PolicyFileError(file, parsed.problems);
  return { text, policy: parsed.policy };
}

let shipped: Policy | undefined;

/** The shipped default policy, read and validated once per process. */
export function defaultPolicy(): Policy {
  shipped ??= readPolicyFile(DEFAULT_POLICY_PATH).policy;
  return shipped;
}
