import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkPolicy } from "../../src/engine/policy/analysis.ts";
import { lintPolicy } from "../../src/engine/policy/lint.ts";
import type { Policy } from "../../src/engine/policy.ts";
import { DEFAULT_POLICY_PATH, defaultPolicy } from "../../src/services/policyFiles.ts";
import { runToEnd } from "../support/server.ts";

const FIXTURE = new URL("./fixtures/gap-overlap.yaml", import.meta.url).pathname;

function withRules(policy: Policy, rules: Policy["rules"]): Policy {
  return { ...policy, rules };
}

describe("policy check", () => {
  it("passes the shipped default policy clean", () => {
    expect(lintPolicy(readFileSync(DEFAULT_POLICY_PATH, "utf8"))).toMatchObject({
      problems: [],
      findings: [],
    });
  });

  it("finds the planted gap and overlap in the tier table and names their rows and lines", () => {
    const lint = lintPolicy(readFileSync(FIXTURE, "utf8"));
    expect(lint.problems).toEqual([]);
    const gap = lint.findings.filter((f) => f.kind === "tier-gap");
    const overlap = lint.findings.filter((f) => f.kind === "tier-overlap");
    expect(gap).toHaveLength(1);
    expect(gap[0]?.example).toEqual({ score: 600 });
    expect(overlap).toHaveLength(1);
    expect(overlap[0]).toMatchObject({
      rows: ["C", "D"],
      paths: ["tiers.rows.2", "tiers.rows.3"],
      lines: [19, 23],
    });
    expect(overlap[0]?.example).toEqual({ score: 560 });
  });

  it("finds rules that can never fire: contradictory conditions, or covered by an earlier rule", () => {
    const base = defaultPolicy();
    const findings = checkPolicy(
      withRules(base, [
        ...base.rules,
        {
          id: "contradiction",
          description: "dpd both above 30 and below 10",
          when: [
            { fact: "dpd", op: ">=", value: 30 },
            { fact: "dpd", op: "<", value: 10 },
          ],
          action: "freeze",
          urgency: "urgent",
          limit: { kind: "keep" },
        },
        {
          id: "shadowed",
          description: "fraud with a high score: fraud-close already takes every such account",
          when: [
            { fact: "fraudFlag", op: "==", value: 1 },
            { fact: "score", op: ">=", value: 700 },
          ],
          action: "close",
          urgency: "urgent",
          limit: { kind: "keep" },
        },
        {
          id: "reachable",
          description: "integer facts: dpd > 29.5 is dpd >= 30, but frozen lines are not taken earlier",
          when: [
            { fact: "dpd", op: ">", value: 29.5 },
            { fact: "frozen", op: "==", value: 1 },
            { fact: "dpd", op: "<", value: 90 },
          ],
          action: "decrease",
          urgency: "notice",
          limit: { kind: "factor", factor: 0.5 },
        },
      ]),
    ).filter((f) => f.kind === "unreachable-rule");
    expect(findings.map((f) => f.rows)).toEqual([["contradiction"], ["shadowed", "fraud-close"]]);
  });

  it("headroom policy check exits 1 naming the rows, and 0 on the default policy", async () => {
    const bad = await runToEnd(["policy", "check", FIXTURE]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/tier-gap: no tier row covers score = 600/);
    expect(bad.stderr).toMatch(
      /tier-overlap: tier rows C and D both match score = 560.*tiers\.rows\.2 at line 19/,
    );
    const good = await runToEnd(["policy", "check", DEFAULT_POLICY_PATH]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("is valid: 5 tiers, 12 rules");
  });
});
