import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicyYaml } from "../../src/engine/policy/document.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";

const shipped = readFileSync(DEFAULT_POLICY_PATH, "utf8");

describe("policy documents", () => {
  it("parses the shipped policy into structured conditions, tiers, limit formula and notice classes", () => {
    const parsed = parsePolicyYaml(shipped);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const p = parsed.policy;
    expect(p.rules.length).toBeGreaterThanOrEqual(10);
    expect(p.tiers.hitPolicy).toBe("first");
    expect(p.tiers.rows[1]?.when).toEqual([
      { fact: "score", op: ">=", value: 590 },
      { fact: "score", op: "<", value: 606 },
    ]);
    expect(p.rules.find((r) => r.id === "delinquency-freeze")?.when[0]).toEqual({
      fact: "dpd",
      op: ">=",
      value: 30,
    });
    expect(p.rules.find((r) => r.id === "multi-lending-decrease")).toMatchObject({
      action: "decrease",
      urgency: "notice",
      limit: { kind: "factor", factor: 0.5 },
    });
    expect(p.rules.find((r) => r.id === "debt-burden-decrease")?.noticeDays).toBe(45);
    expect(p.rules.find((r) => r.id === "prohibited-use-recall")).toMatchObject({
      recall: true,
      urgency: "urgent",
    });
    expect(p.limit.regionFactors.west).toBe(0.85);
  });

  it("names the line and column of a bad condition, an unknown fact and a line cap above the hard cap", () => {
    const broken = shipped
      .replace(
        'when: ["dpd >= 30", "frozen == 0", "closed == 0"]',
        'when: ["dpd >= 30", "frozen = 0", "closed == 0"]',
      )
      .replace('when: ["fraudFlag >= 1"]', 'when: [{ fact: fraud, op: ">=", value: 1 }]')
      .replace("lineCap: 20000000", "lineCap: 30000000");
    const parsed = parsePolicyYaml(broken);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const lines = broken.split("\n");
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const byPath = Object.fromEntries(parsed.problems.map((p) => [p.path, p]));
    expect(byPath["rules.3.when.1"]).toMatchObject({ line: lineOf('"frozen = 0"') });
    expect(byPath["rules.3.when.1"]?.column).toBe(
      (lines[lineOf('"frozen = 0"') - 1]?.indexOf('"frozen = 0"') as number) + 1,
    );
    expect(byPath["rules.0.when.0"]?.line).toBe(lineOf("fact: fraud,"));
    expect(byPath["guardrails.lineCap"]).toMatchObject({ line: lineOf("lineCap: 30000000") });
    expect(byPath["guardrails.lineCap"]?.message).toContain("20000000");
  });

  it("reports YAML syntax errors and missing sections with their position", () => {
    const syntax = parsePolicyYaml("version: x\ntiers: [\n");
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.problems[0]?.line).toBeGreaterThanOrEqual(2);
    const missing = parsePolicyYaml("version: x\n");
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.problems.map((p) => p.path)).toContain("rules");
  });
});
