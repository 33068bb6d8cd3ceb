import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFeatures } from "../../src/engine/features.ts";
import type { Policy } from "../../src/engine/policy.ts";
import { seededRandom } from "../../src/engine/random.ts";
import type { Dataset } from "../../src/engine/scorecard/dataset.ts";
import { DEFAULT_TRAINING, trainScorecard } from "../../src/engine/scorecard/train.ts";
import { validateScorecard } from "../../src/engine/scorecard/validation.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { loadLines } from "../../src/services/lineLoader.ts";
import { registerDraft } from "../../src/services/modelRegistry.ts";
import { defaultPolicy } from "../../src/services/policyFiles.ts";
import { hitsCsv, simulate } from "../../src/services/simulation.ts";
import { runSimulation } from "../../src/services/simulationRun.ts";
import { due, opened, repaid } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const AS_OF = T0 + 120 * DAY;

/** The same policy with the delinquency freeze at another number of days past due. */
function freezeAt(days: number): Policy {
  const policy = defaultPolicy();
  return {
    ...policy,
    version: `freeze-at-${days}`,
    rules: policy.rules.map((r) =>
      r.id === "delinquency-freeze"
        ? { ...r, when: r.when.map((c) => (c.fact === "dpd" ? { ...c, value: days } : c)) }
        : r,
    ),
  };
}

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
  });
}
