import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFeatures } from "../../src/engine/features.ts";
import type { Policy } from "../../src/engine/policy.ts";
import { seededRandom } from "../../src/engine/random.ts";
import type { Dataset } from "../../src/engine/scorecard/dataset.ts";
import { DEFAULT_TRAINING, trainScorecard } from "../../src/engine/scorecard/train.ts";
import { validateScorecard } from "../../src/engine/scorecard/validation.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { loadLines } from "../../src/services/lineLoader.ts";
import { registerDraft } from "../../src/services/modelRegistry.ts";
import { defaultPolicy } from "../../src/services/policyFiles.ts";
import { setRiskMeasure } from "../../src/services/riskSettings.ts";
import { hitsCsv, simulate } from "../../src/services/simulation.ts";
import { runSimulation } from "../../src/services/simulationRun.ts";
import { due, opened, repaid } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const AS_OF = T0 + 120 * DAY;

/** The default policy with one condition of one rule at another value. */
function withCondition(version: string, ruleId: string, fact: string, value: number): Policy {
  const policy = defaultPolicy();
  return {
    ...policy,
    version,
    rules: policy.rules.map((r) =>
      r.id === ruleId ? { ...r, when: r.when.map((c) => (c.fact === fact ? { ...c, value } : c)) } : r,
    ),
  };
}

/** The delinquency freeze at another number of days past due. */
const freezeAt = (days: number) => withCondition(`freeze-at-${days}`, "delinquency-freeze", "dpd", days);
/** Increases wait six months on book instead of three. */
const increaseAfter6m = () => withCondition("increase-after-6m", "good-standing-increase", "monthsOnBook", 6);

/** A registry model scoring days past due alone: a candidate model unlike the one in force. */
function dpdOnlyModel(version: string) {
  const random = seededRandom(9);
  const dpd = Float64Array.from({ length: 3000 }, () => random.int(90));
  const target = Uint8Array.from(dpd, (d) => (random.next() < 0.05 + d / 120 ? 1 : 0));
  const data: Dataset = { names: ["dpd"], columns: [dpd], levels: [null], target };
  const { scorecard, report } = trainScorecard(data, version, DEFAULT_TRAINING);
  return { scorecard, training: report, validation: validateScorecard(scorecard, data), author: "ana" };
}

for (const { target, skip } of await storeTargets("the simulation suite")) {
  describe.skipIf(skip)(`simulation on ${target.name}`, () => {
    const clock = manualClock(AS_OF);
    let headroom: Headroom & { dispose(): Promise<void> };
    beforeEach(async () => {
      clock.set(AS_OF);
      headroom = await target.open(clock.now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("hits exactly the accounts between two thresholds, and touches nothing", async () => {
      // 60 accounts whose one unpaid instalment fell due 0..59 days before the simulation date.
      const events = Array.from({ length: 60 }, (_, i) => {
        const id = `s${String(i).padStart(2, "0")}`;
        return [opened(id, T0, { borrowerId: `b${i}` }), due(id, `u${i}`, T0 + DAY, AS_OF - i * DAY, 50_000)];
      }).flat();
      await ingestEvents(
        headroom,
        events.filter((e) => e.type === "account_opened"),
      );
      await ingestEvents(
        headroom,
        events.filter((e) => e.type !== "account_opened"),
      );
      const before = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();
      const decisionsBefore = await headroom.store.db.selectFrom("decisions").select("id").execute();

      const report = await simulate(headroom.store, activeEngine(freezeAt(30)), activeEngine(freezeAt(20)), {
        asOf: AS_OF,
      });

      const lines = await headroom.store.db.transaction().execute((trx) =>
        loadLines(
          trx,
          headroom.store,
          before.map((l) => l.account_id),
        ),
      );
      const between = [...lines.values()]
        .filter((l) => {
          const dpd = readFeatures(l.state, { limit: l.row.limit_amount, balance: l.row.balance }, AS_OF).dpd;
          return dpd >= 20 && dpd < 30;
        })
        .map((l) => l.row.account_id)
        .sort();
      expect(between.length).toBeGreaterThan(5);
      expect(report.hits.map((h) => h.accountId).sort()).toEqual(between);
      expect(
        report.hits.every((h) => h.candidateAction === "freeze" && h.candidateRule === "delinquency-freeze"),
      ).toBe(true);
      expect(report.accounts).toBe(60);
      expect(report.actions.freeze?.candidate).toBe((report.actions.freeze?.current ?? 0) + between.length);
      expect(hitsCsv(report.hits).trim().split("\n")).toHaveLength(between.length + 1);

      // A sandbox: the book and its decisions are exactly as they were.
      expect(
        await headroom.store.db.selectFrom("credit_lines").selectAll().orderBy("account_id").execute(),
      ).toEqual(before);
      expect(await headroom.store.db.selectFrom("decisions").select("id").execute()).toEqual(decisionsBefore);
      expect(report.outcomes).toBeNull();
    });

    it("replays the history as of a past date and counts the cuts on accounts that then stayed current", async () => {
      // Account i has one unpaid instalment i days past due at AS_OF. After AS_OF, the even ones
      // under 30 days pay it before reaching 30 days past due; the rest never pay.
      const END = AS_OF + 60 * DAY;
      const events = Array.from({ length: 40 }, (_, i) => {
        const id = `w${String(i).padStart(2, "0")}`;
        const dueAt = AS_OF - i * DAY;
        // A small line, well under what income supports, so only the delinquency rules cut it.
        const history = [
          opened(id, T0, { borrowerId: `wb${i}`, initialLimit: 300_000 }),
          due(id, `wu${i}`, T0 + DAY, dueAt, 50_000),
        ];
        if (i < 30 && i % 2 === 0) history.push(repaid(id, `wp${i}`, dueAt + 29 * DAY, 50_000, `wu${i}-due`));
        return history;
      }).flat();
      await ingestEvents(
        headroom,
        events.filter((e) => e.type === "account_opened"),
      );
      await ingestEvents(
        headroom,
        events.filter((e) => e.type === "repayment_due"),
      );
      for (const e of events.filter((e) => e.type === "repayment_made")) {
        clock.set(Date.parse(e.occurredAt));
        await ingestEvents(headroom, [e]);
      }
      clock.set(END);
      const before = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();

      const report = await simulate(headroom.store, activeEngine(freezeAt(30)), activeEngine(freezeAt(10)), {
        asOf: AS_OF,
        replayUntil: END,
      });

      const ids = (pick: (i: number) => boolean) =>
        Array.from({ length: 40 }, (_, i) => i)
          .filter(pick)
          .map((i) => `w${String(i).padStart(2, "0")}`);
      expect(report.mode).toBe("replay");
      expect(report.accounts).toBe(40);
      expect(report.hits.map((h) => h.accountId).sort()).toEqual(ids((i) => i >= 10 && i < 30));
      // Repayers paid 29 days after their due date; the others were 60+ days late by END.
      for (const h of report.hits)
        expect(h.worstDpdAfter).toBe(
          Number(h.accountId.slice(1)) % 2 === 0 ? 29 : Number(h.accountId.slice(1)) + 60,
        );
      expect(report.outcomes).toEqual({
        observedUntil: END,
        bad: {
          dpd30: ids((i) => i >= 30 || i % 2 === 1).length,
          dpd60: ids((i) => i >= 30 || i % 2 === 1).length,
        },
        cuts: { current: 10, candidate: 30 },
        // The current policy cut only accounts already 30+ days late, which all went on to 60+.
        // The candidate also cut the ten at 10-29 days who then paid: wrongful by either measure.
        wrongfulCuts: { current: { dpd30: 0, dpd60: 0 }, candidate: { dpd30: 10, dpd60: 10 } },
      });
      expect(
        await headroom.store.db.selectFrom("credit_lines").selectAll().orderBy("account_id").execute(),
      ).toEqual(before);
    });

    it("simulates a candidate model from the registry under the policy in force, and stores the report", async () => {
      await ingestEvents(headroom, [
        opened("m1", T0),
        opened("m2", T0),
        due("m2", "mu", T0 + DAY, AS_OF - 40 * DAY, 50_000),
      ]);
      await registerDraft(headroom.store, dpdOnlyModel("dpd-only"), AS_OF);
      const { id, report } = await runSimulation(headroom, { model: "dpd-only", by: "ana" });
      expect(report.candidate).toMatchObject({ policy: headroom.engine.policy.version, model: "dpd-only" });
      expect(report.current.model).toBe(headroom.engine.model.version);
      expect(report.scorePsi).toBeGreaterThan(0);
      const stored = await headroom.store.db
        .selectFrom("simulation_reports")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ candidate_model: "dpd-only", mode: "book", accounts: 2 });
      await expect(runSimulation(headroom, { model: "nope", by: "ana" })).rejects.toMatchObject({
        field: "model",
      });
    });

    describe("class-wide measures", () => {
      /** What the default policy gives these borrowers (tier C's cap) in east and west alike. */
      const TIER_CAP = 5_000_000;
      const line = (limit: number, region: "east" | "west") => ({
        declaredMonthlyIncome: 3_000_000,
        initialLimit: limit,
        region,
      });
      const openAll = (lines: Record<string, ReturnType<typeof line>>) =>
        ingestEvents(
          headroom,
          Object.entries(lines).map(([id, l]) => opened(id, T0, { ...l, borrowerId: `cb-${id}` })),
        );

      it("decides both sides under a measure set live: only the candidate's own change is a hit", async () => {
        // e*: below target, so the policy in force raises them once 3 months on book; the
        // candidate waits 6 months. w*: at the cap until a live west factor of 0.8 cuts them to 4M.
        const NOW = T0 + 60 * DAY;
        clock.set(NOW);
        await openAll({
          e1: line(4_000_000, "east"),
          e2: line(4_000_000, "east"),
          w1: line(TIER_CAP, "west"),
          w2: line(TIER_CAP, "west"),
        });
        expect(
          await setRiskMeasure(headroom, { kind: "region", region: "west", factor: 0.8 }, "cro", "downturn"),
        ).toMatchObject({ changed: 2 });
        clock.set(NOW + 31 * DAY);
        expect(await applyDueActions(headroom)).toMatchObject({ applied: 2 });
        const SIM = NOW + 62 * DAY;
        clock.set(SIM);
        const west = await headroom.store.db
          .selectFrom("credit_lines")
          .select("limit_amount")
          .where("region", "=", "west")
          .execute();
        expect(west.map((l) => l.limit_amount)).toEqual([4_000_000, 4_000_000]);

        const report = await simulate(headroom.store, headroom.engine, activeEngine(increaseAfter6m()), {
          asOf: SIM,
        });
        const inForce = { regions: { west: 0.8 }, stress: 1 };
        expect(report.measures).toEqual({ current: inForce, candidate: inForce });
        expect(report.whatIf).toBeNull();
        // The west lines sit at the target the measure sets, on both sides: read without the
        // measure, the policy in force would raise them back to 5M and the report would blame
        // the candidate for holding them.
        expect(report.hits.map((h) => h.accountId).sort()).toEqual(["e1", "e2"]);
        expect(report.hits.every((h) => h.currentAction === "increase" && h.candidateAction === "none")).toBe(
          true,
        );
        expect(report.actions).toEqual({
          increase: { current: 2, candidate: 0 },
          none: { current: 2, candidate: 4 },
        });

        // The candidate equal to the policy in force: no difference at all.
        const same = await simulate(
          headroom.store,
          headroom.engine,
          activeEngine({ ...defaultPolicy(), version: "same-rules" }),
          { asOf: SIM },
        );
        expect(same.hits).toEqual([]);
      });

      it("a what-if region factor hits exactly that region's accounts pushed past the threshold, under the stress in force", async () => {
        const NOW = T0 + 60 * DAY;
        clock.set(NOW);
        const limits = [3_900_000, 4_100_000, 4_200_000, 4_300_000, 4_500_000, TIER_CAP];
        await openAll(
          Object.fromEntries(
            limits.flatMap((l, i) => [
              [`ea${i}`, line(l, "east")],
              [`we${i}`, line(l, "west")],
            ]),
          ),
        );
        // Stress in force at 0.95 moves no line (the target, 4.75M, is within the hysteresis of 5M).
        expect(
          await setRiskMeasure(headroom, { kind: "stress", factor: 0.95 }, "cro", "mild stress"),
        ).toMatchObject({ reviewed: 12, changed: 0 });
        clock.set(NOW + DAY);

        const { id, report } = await runSimulation(headroom, {
          whatIf: { regions: { west: 0.8 } },
          by: "ana",
        });
        expect(report.whatIf).toEqual({ regions: { west: 0.8 } });
        expect(report.measures).toEqual({
          current: { regions: {}, stress: 0.95 },
          candidate: { regions: { west: 0.8 }, stress: 0.95 },
        });
        // The candidate's west target: the cap times 0.8 times the stress in force; a line is cut
        // when that target is below it by more than the policy's hysteresis band.
        const target = Math.floor((TIER_CAP * 0.8 * 0.95) / 100) * 100;
        const { hysteresis } = defaultPolicy().guardrails;
        const crossing = limits
          .map((l, i) => ({ id: `we${i}`, l }))
          .filter(({ l }) => (target - l) / l < -hysteresis)
          .map(({ id }) => id);
        expect(crossing.length).toBeGreaterThan(1);
        expect(crossing.length).toBeLessThan(limits.length - 1);
        expect(report.hits.map((h) => h.accountId).sort()).toEqual(crossing);
        for (const h of report.hits) {
          expect(h).toMatchObject({
            region: "west",
            currentAction: "none",
            candidateAction: "decrease",
            candidateLimit: target,
            currentClassWide: false,
            candidateClassWide: true,
          });
        }
        expect(report.classWide).toEqual({ current: 0, candidate: crossing.length });
        expect(hitsCsv(report.hits).split("\n")[1]?.endsWith(",0,1")).toBe(true);
        const stored = await headroom.store.db
          .selectFrom("simulation_reports")
          .select(["what_if", "report"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        expect(JSON.parse(stored.what_if ?? "null")).toEqual({ regions: { west: 0.8 } });
        expect(JSON.parse(stored.report).whatIf).toEqual({ regions: { west: 0.8 } });

        // A replay decides under the measures in force at its date: before the stress was set, none.
        const replay = await runSimulation(headroom, {
          asOf: NOW - DAY,
          whatIf: { stress: 0.9 },
          by: "ana",
        });
        expect(replay.report.measures).toEqual({
          current: { regions: {}, stress: 1 },
          candidate: { regions: {}, stress: 0.9 },
        });

        await expect(runSimulation(headroom, { whatIf: { stress: 3 }, by: "ana" })).rejects.toMatchObject({
          field: "stress",
          message: "stress must be between 0.5 and 1.5, got 3",
        });
        await expect(
          runSimulation(headroom, { whatIf: { regions: { mars: 0.9 } }, by: "ana" }),
        ).rejects.toMatchObject({ field: "regionFactors.mars" });
      });
    });
  });
}
