import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Decision, type DecisionInput, decide } from "../../src/engine/decide.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import type { Recourse } from "../../src/engine/recourse.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { renderNotice } from "../../src/services/channels/templates.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { listPlans, runRebuildingPlans } from "../../src/services/plans.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import { activatePolicy, loadActiveEngine } from "../../src/services/policyVersions.ts";
import { setRiskMeasure } from "../../src/services/riskSettings.ts";
import { CONSENT, closedForDelinquency, drawdown, due, inquiry, iso, opened } from "../support/events.ts";
import { approvedVersion } from "../support/policies.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

/** Does what each step of a recourse asks, as events on the day it is read. */
function follow(accountId: string, recourse: Recourse, at: number): CreditEvent[] {
  return recourse.steps.flatMap((step, i): CreditEvent[] => {
    const base = { accountId, occurredAt: iso(at), id: `follow-${i}` };
    switch (step.kind) {
      case "repay_overdue":
      case "reduce_balance":
        return [{ ...base, type: "repayment_made", data: { amount: step.amount } }];
      case "prove_income":
        return [
          {
            ...base,
            type: "income_verified",
            data: { monthlyIncome: step.monthlyIncomeAtLeast, source: "payslip" },
          },
        ];
      case "close_loans":
        return step.lenders.map((lender, j) => ({
          ...base,
          id: `follow-${i}-${j}`,
          type: "external_loan_closed" as const,
          data: { lender, consent: CONSENT },
        }));
      default:
        return [];
    }
  });
}

describe("rebuilding plans", () => {
  const clock = manualClock(T0);
  let headroom: Headroom & { dispose(): Promise<void> };
  beforeEach(async () => {
    headroom = await sqliteTarget.open(clock.now);
  });
  afterEach(async () => {
    await headroom.dispose();
  });

  it("reopens a line closed for 90 days past due once its plan is met, with a fresh ability-to-pay check", async () => {
    clock.set(T0 + 120 * DAY);
    await ingestEvents(headroom, closedForDelinquency("c1", T0));
    const line = () =>
      headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .where("account_id", "=", "c1")
        .executeTakeFirstOrThrow();
    expect(await line()).toMatchObject({ status: "CLOSED", limit_amount: 0 });
    const row = await headroom.store.db
      .selectFrom("decision_recourse")
      .innerJoin("decisions", "decisions.id", "decision_recourse.decision_id")
      .select(["decision_recourse.recourse", "decisions.rule_id"])
      .where("decisions.action", "=", "close")
      .executeTakeFirstOrThrow();
    expect(row.rule_id).toBe("severe-delinquency-close");
    const recourse = JSON.parse(row.recourse) as Recourse;
    expect(recourse).toMatchObject({ goal: "reopen", available: true });
    expect(recourse.steps.map((s) => s.kind)).toContain("repay_overdue");

    expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 1, reopened: 0 });
    await ingestEvents(headroom, follow("c1", recourse, clock.now()));
    expect((await line()).status).toBe("CLOSED"); // no rule reopens a closed line by itself
    clock.set(Math.max(clock.now(), recourse.by));
    const pass = await runRebuildingPlans(headroom);
    console.log(recourse.en, JSON.stringify(await listPlans(headroom, "c1")));
    expect(pass).toMatchObject({ reopened: 1 });
    expect(await line()).toMatchObject({ status: "ACTIVE", limit_amount: recourse.outcome?.limit });
    const [plan] = await listPlans(headroom, "c1");
    expect(plan).toMatchObject({ status: "reopened" });
    expect(plan?.checkpoints.every((c) => c.met)).toBe(true);
    const reopen = await headroom.store.db
      .selectFrom("decisions")
      .selectAll()
      .where("account_id", "=", "c1")
      .where("action", "=", "reopen")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(reopen.output).affordability).toMatchObject({ passed: true });
    expect((await verifyLedger(headroom.store)).ok).toBe(true);
  });

  it("reopens a challenger's line by the challenger's rules, as every live decision is made", async () => {
    const yaml = readFileSync(DEFAULT_POLICY_PATH, "utf8");
    await approvedVersion(headroom, yaml, clock.now());
    await approvedVersion(headroom, yaml.replace("version: policy-1", "version: policy-c"), clock.now());
    await activatePolicy(
      headroom.store,
      { champion: "policy-1", challenger: "policy-c", challengerShare: 1 },
      "carol",
      clock.now(),
    );
    headroom.engine = await loadActiveEngine(headroom.store);
    clock.set(T0 + 120 * DAY);
    await ingestEvents(headroom, closedForDelinquency("c1", T0));
    const close = await headroom.store.db
      .selectFrom("decision_recourse")
      .innerJoin("decisions", "decisions.id", "decision_recourse.decision_id")
      .select(["decision_recourse.recourse", "decisions.policy_version"])
      .where("decisions.action", "=", "close")
      .executeTakeFirstOrThrow();
    expect(close.policy_version).toBe("policy-c");
    const recourse = JSON.parse(close.recourse) as Recourse;
    await runRebuildingPlans(headroom);
    await ingestEvents(headroom, follow("c1", recourse, clock.now()));
    clock.set(Math.max(clock.now(), recourse.by));
    expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 1 });
    const reopen = await headroom.store.db
      .selectFrom("decisions")
      .select("policy_version")
      .where("account_id", "=", "c1")
      .where("action", "=", "reopen")
      .executeTakeFirstOrThrow();
    expect(reopen.policy_version).toBe("policy-c");
  });

  it("reopens under the class-wide measures in force: a region's factor holds its reopening down, another region's is unaffected", async () => {
    clock.set(T0 + 120 * DAY);
    // The same closure in two regions: 90 days past due closes both lines. The income is enough for
    // the tier's cap in both regions, so both plans promise the line back at 20,000 yuan.
    const closedLine = (id: string, region: "east" | "west") => [
      opened(id, T0, { declaredMonthlyIncome: 2_000_000, initialLimit: 2_000_000, region }),
      drawdown(id, `${id}-d1`, T0 + DAY, 300_000),
      due(id, `${id}-u0`, T0 + 10 * DAY, T0 + 20 * DAY, 30_000),
      inquiry(id, `${id}-q1`, T0 + 115 * DAY),
    ];
    await ingestEvents(headroom, [...closedLine("e1", "east"), ...closedLine("w1", "west")]);
    expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 2 });
    const recourseOf = async (accountId: string) => {
      const row = await headroom.store.db
        .selectFrom("decision_recourse")
        .select("recourse")
        .where("account_id", "=", accountId)
        .executeTakeFirstOrThrow();
      return JSON.parse(row.recourse) as Recourse;
    };
    const [east, west] = [await recourseOf("e1"), await recourseOf("w1")];
    await ingestEvents(headroom, [
      ...follow("e1", east, clock.now()).map((e) => ({ ...e, id: `e1-${e.id}` })),
      ...follow("w1", west, clock.now()).map((e) => ({ ...e, id: `w1-${e.id}` })),
    ]);
    clock.set(Math.max(clock.now(), east.by, west.by));
    // The west's risk factor is set after the plans were made: the reopening must still obey it.
    await setRiskMeasure(headroom, { kind: "region", region: "west", factor: 0.5 }, "analyst-1", "downturn");

    expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 2 });
    const promised = west.outcome?.limit ?? 0;
    expect(promised).toBe(2_000_000);
    expect(east.outcome?.limit).toBe(promised);
    const lines = await headroom.store.db
      .selectFrom("credit_lines")
      .select(["account_id", "status", "limit_amount"])
      .orderBy("account_id")
      .execute();
    expect(lines).toEqual([
      { account_id: "e1", status: "ACTIVE", limit_amount: east.outcome?.limit },
      { account_id: "w1", status: "ACTIVE", limit_amount: expect.any(Number) },
    ]);
    // Half the target the plan was worked out at: the region's factor of 0.5.
    const westLimit = lines[1]?.limit_amount ?? 0;
    expect(westLimit).toBe(promised / 2);

    const reopenOf = async (accountId: string) => {
      const row = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("action", "=", "reopen")
        .executeTakeFirstOrThrow();
      return {
        row,
        input: JSON.parse(row.input) as DecisionInput,
        output: JSON.parse(row.output) as Decision,
      };
    };
    // The west's reopening is recorded as the measure's: its input carries the factor, its output
    // says what the reopening would have been without it, and the borrower is told it is regional.
    const w = await reopenOf("w1");
    expect(w.row.to_limit).toBe(westLimit);
    expect(w.input.classMeasures).toEqual({ regionFactor: 0.5, stressMultiplier: 1 });
    expect(w.output.classWide).toEqual({
      regionFactor: 0.5,
      stressMultiplier: 1,
      withoutMeasures: { action: "reopen", toLimit: promised, toStatus: "ACTIVE" },
    });
    expect(decide(w.input, headroom.engine, w.output.decidedAt)).toEqual(w.output);
    const notices = await headroom.store.db
      .selectFrom("outbox")
      .select(["kind", "payload"])
      .where("account_id", "=", "w1")
      .where((eb) =>
        eb.or([eb("idempotency_key", "=", `line_changed:${w.row.id}`), eb("kind", "=", "plan_met")]),
      )
      .execute();
    expect(notices.map((n) => n.kind).sort()).toEqual(["line_changed", "plan_met"]);
    for (const n of notices)
      expect(JSON.parse(n.payload).classWide).toMatchObject({ scope: "regional", regionFactor: 0.5 });
    expect(renderNotice(notices.find((n) => n.kind === "plan_met")?.payload ?? "", "en").text).toContain(
      "regional measure",
    );
    const [westPlan] = await listPlans(headroom, "w1");
    expect(westPlan?.outcome).toContain("under a class-wide measure");

    // The east is outside the measure: reopened at the limit its plan promised, as before.
    const e = await reopenOf("e1");
    expect(e.input.classMeasures).toBeUndefined();
    expect(e.output.classWide).toBeUndefined();
    expect((await verifyLedger(headroom.store)).ok).toBe(true);
  });

  it("leaves further freezes of a line that has a plan without one, and a pass over many of them ends", async () => {
    clock.set(T0 + 40 * DAY);
    await ingestEvents(headroom, [
      opened("m1", T0, { declaredMonthlyIncome: 1_000_000 }),
      drawdown("m1", "d1", T0 + DAY, 300_000),
      {
        id: "t1",
        accountId: "m1",
        type: "transaction",
        occurredAt: iso(T0 + 40 * DAY),
        data: { amount: 1000, category: "gambling" },
      },
    ]);
    expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 1 });
    // More freezes of the same line than one chunk of a pass reads (200), each with its recourse, as
    // repeated re-decisions of a frozen line leave them: none may get a second plan.
    const db = headroom.store.db;
    const freeze = await db
      .selectFrom("decisions")
      .selectAll()
      .where("account_id", "=", "m1")
      .where("action", "=", "freeze")
      .executeTakeFirstOrThrow();
    const recourse = await db
      .selectFrom("decision_recourse")
      .selectAll()
      .where("decision_id", "=", freeze.id)
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 450; i++) {
      await db
        .insertInto("decisions")
        .values({ ...freeze, id: `${freeze.id}-again-${i}`, idempotency_key: `again-${i}` })
        .execute();
      await db
        .insertInto("decision_recourse")
        .values({ ...recourse, id: `${recourse.id}-again-${i}`, decision_id: `${freeze.id}-again-${i}` })
        .execute();
    }
    expect(await runRebuildingPlans(headroom)).toMatchObject({ opened: 0 });
    expect(await listPlans(headroom, "m1")).toHaveLength(1);
  });

  it("keeps a frozen line and its plan as they are while checkpoints are not met", async () => {
    clock.set(T0 + 40 * DAY);
    await ingestEvents(headroom, [
      opened("f1", T0, { declaredMonthlyIncome: 1_000_000 }),
      drawdown("f1", "d1", T0 + DAY, 300_000),
      {
        id: "t1",
        accountId: "f1",
        type: "transaction",
        occurredAt: iso(T0 + 40 * DAY),
        data: { amount: 1000, category: "gambling" },
      },
    ]);
    await runRebuildingPlans(headroom);
    const [plan] = await listPlans(headroom, "f1");
    expect(plan?.status).toBe("active");
    // Nothing done and the date not reached: every checkpoint still open, the line still frozen.
    clock.set(T0 + 60 * DAY);
    expect(await runRebuildingPlans(headroom)).toMatchObject({ reopened: 0 });
    const [later] = await listPlans(headroom, "f1");
    expect(later).toMatchObject({ status: "active", completedAt: null });
    expect(later?.checkpoints.some((c) => !c.met)).toBe(true);
    const frozen = await headroom.store.db
      .selectFrom("credit_lines")
      .select("status")
      .where("account_id", "=", "f1")
      .executeTakeFirstOrThrow();
    expect(frozen.status).toBe("FROZEN");
  });
});
