import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Decision, type DecisionInput, decide } from "../../src/engine/decide.ts";
import type { FeatureState } from "../../src/engine/features.ts";
import { type Recourse, recourseBase } from "../../src/engine/recourse.ts";
import { dataDir } from "../../src/services/demo/borrowerProfiles.ts";
import { seedDemo } from "../../src/services/demo/seedDemo.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { follow } from "../support/recourse.ts";
import { sqliteTarget } from "../support/stores.ts";

const END = Date.UTC(2026, 5, 1);
const GENERIC = [
  /internal policy/i,
  /score too low/i,
  /other reasons?/i,
  /insufficient/i,
  /内部政策/,
  /评分不足/,
  /综合评分/,
];

const realData = existsSync(join(dataDir(), "give-me-some-credit.csv.gz"));
if (!realData) console.warn(`SKIPPED: recourse on the real-data portfolio (no data set in ${dataDir()})`);

/**
 * The promise must hold for any portfolio, so the demo is seeded both ways: from the built-in
 * synthetic profiles (a data directory that does not exist) and from the real data set's rows.
 */
const portfolios = [
  { name: "synthetic profiles", dataDir: join(import.meta.dirname, "no-such-data-dir"), run: true },
  { name: "Give Me Some Credit profiles", dataDir: dataDir(), run: realData },
];

describe.each(portfolios)("recourse on the demo portfolio ($name)", ({ dataDir: profilesDir, run }) => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let adverse: {
    input: DecisionInput;
    output: Decision;
    recourse: Recourse | null;
    state: FeatureState | null;
  }[] = [];

  beforeAll(async () => {
    if (!run) return;
    headroom = await sqliteTarget.open(() => END);
    vi.stubEnv("HEADROOM_DATA_DIR", profilesDir);
    try {
      await seedDemo(headroom, { borrowers: 800, months: 6, seed: 42, end: END });
    } finally {
      vi.unstubAllEnvs();
    }
    const rows = await headroom.store.db
      .selectFrom("decisions")
      .leftJoin("decision_recourse", "decision_recourse.decision_id", "decisions.id")
      .select([
        "decisions.input",
        "decisions.output",
        "decision_recourse.recourse",
        "decision_recourse.state",
      ])
      .where("decisions.adverse", "=", 1)
      // Limit decisions; rate rises have their own recourse (test/pricing/rateChanges.test.ts).
      .where("decisions.rule_id", "is not", null)
      .execute();
    adverse = rows.map((r) => ({
      input: JSON.parse(r.input) as DecisionInput,
      output: JSON.parse(r.output) as Decision,
      recourse: r.recourse === null ? null : (JSON.parse(r.recourse) as Recourse),
      state: r.state === null ? null : (JSON.parse(r.state) as FeatureState),
    }));
  }, 120_000);
  afterAll(async () => {
    if (run) await headroom.dispose();
  });

  it.skipIf(!run)(
    "gives every adverse decision a recourse that decide() honours when the borrower follows it",
    () => {
      expect(adverse.length).toBeGreaterThan(50);
      expect(new Set(adverse.map((a) => a.output.action))).toEqual(new Set(["decrease", "freeze", "close"]));
      let checked = 0;
      for (const { input, output, recourse, state } of adverse) {
        expect(recourse, `decision on ${input.accountId} has no recourse`).not.toBeNull();
        if (recourse === null || state === null) continue;
        if (!recourse.available) {
          // Only what no borrower can change (a fraud report) leaves nothing but an appeal.
          expect(output.reasons.map((r) => r.feature)).toContain("fraudFlag");
          continue;
        }
        expect(recourse.steps.length).toBeGreaterThan(0);
        const { goal, base } = recourseBase(input, output);
        const followed = follow(base, state, recourse, output.decidedAt);
        const after = decide(followed, headroom.engine, recourse.by);
        if (goal === "keep") {
          expect(after.adverse, `${input.accountId}: ${recourse.en}`).toBe(false);
          expect(after.toLimit).toBeGreaterThanOrEqual(output.fromLimit);
        } else {
          expect(after.action, `${input.accountId}: ${recourse.en}`).toBe("reopen");
        }
        expect(after.toLimit).toBe(recourse.outcome?.limit);
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
    },
  );

  it.skipIf(!run)("is minimal: dropping any one step no longer keeps the promise", () => {
    for (const { input, output, recourse, state } of adverse) {
      if (recourse === null || state === null || !recourse.available || recourse.steps.length < 2) continue;
      const { goal, base } = recourseBase(input, output);
      for (let i = 0; i < recourse.steps.length; i++) {
        const steps = recourse.steps.filter((_, j) => j !== i);
        // Without a waiting step the promise comes no later than the other steps allow.
        const by = Math.max(output.decidedAt, ...steps.map((s) => ("by" in s ? s.by : 0)));
        const fewer = { ...recourse, steps, by };
        const after = decide(follow(base, state, fewer, output.decidedAt), headroom.engine, by);
        const kept =
          (goal === "keep" ? !after.adverse : after.action === "reopen") &&
          after.toLimit >= (recourse.outcome?.limit ?? 0);
        expect(kept, `${input.accountId}: step ${recourse.steps[i]?.kind} was not needed`).toBe(false);
      }
    }
  });

  it.skipIf(!run)(
    "states 1-4 specific reasons, each a feature that counted against the borrower, never a generic phrase",
    () => {
      for (const { output, recourse } of adverse) {
        expect(output.reasons.length).toBeGreaterThanOrEqual(1);
        expect(output.reasons.length).toBeLessThanOrEqual(4);
        const rule = headroom.engine.policy.rules.find((r) => r.id === output.ruleId);
        for (const reason of output.reasons) {
          const inRule = rule?.when.some((c) => c.fact === reason.feature) ?? false;
          const lostPoints = reason.pointsLost !== null && reason.pointsLost > 0;
          const capsTarget =
            reason.feature === "monthlyIncome" && output.trace.incomeLimit < output.trace.tierCap;
          expect(inRule || lostPoints || capsTarget, `${reason.code} did not count in ${output.ruleId}`).toBe(
            true,
          );
          for (const phrase of GENERIC) {
            expect(reason.en).not.toMatch(phrase);
            expect(reason.zh).not.toMatch(phrase);
          }
          // The sentence names the feature and the borrower's own value.
          expect(reason.en.length).toBeGreaterThan(10);
          expect(reason.zh).toMatch(/：/);
        }
        for (const phrase of GENERIC) {
          expect(recourse?.en ?? "").not.toMatch(phrase);
          expect(recourse?.zh ?? "").not.toMatch(phrase);
        }
      }
    },
  );

  it.skipIf(!run)("phrases recourse with amounts in yuan and a date in both languages", () => {
    const withMoney = adverse.find((a) => a.recourse?.steps.some((s) => s.kind === "repay_overdue"));
    expect(withMoney?.recourse?.en).toMatch(
      /^If you repay the overdue [\d,.]+ yuan.*, by \d{1,2} [A-Z][a-z]+ \d{4} /,
    );
    expect(withMoney?.recourse?.zh).toMatch(/^如您还清逾期的[\d,.]+元.*\d{4}年\d{1,2}月\d{1,2}日前即可/);
  });
});
