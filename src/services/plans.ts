import { type Decision, type DecisionInput, decide } from "../engine/decide.ts";
import { type FeatureState, readFeatures } from "../engine/features.ts";
import { bodyHash } from "../engine/ledger.ts";
import { formatYuan } from "../engine/money.ts";
import { overdueAmount, type Recourse, type RecourseStep } from "../engine/recourse.ts";
import { stepText } from "../engine/recourseText.ts";
import type { RebuildingPlanTable } from "../store/schema.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import { BudgetBook } from "./budgetBook.ts";
import { type ClassMeasureSettings, classMeasuresIn, classWideNotice } from "./classMeasures.ts";
import { type ActiveEngine, contextFor } from "./engineConfig.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { decisionInput, type LineRecord } from "./lineBook.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { WriteSet } from "./writeSet.ts";

/** One thing the borrower does on the way back, and whether it is done. */
export interface Checkpoint {
  step: RecourseStep;
  en: string;
  zh: string;
  metAt: number | null;
}

const PLAN_CHUNK = 200;

export function planBodyHash(p: RebuildingPlanTable): string {
  return bodyHash([p.id, p.account_id, p.decision_id, p.plan, p.target_limit, p.created_at]);
}

/** Whether a checkpoint holds on the line as it is now. */
function isMet(step: RecourseStep, line: LineRecord, now: number): boolean {
  const state: FeatureState = line.state;
  switch (step.kind) {
    case "repay_overdue":
      return overdueAmount(state, now) === 0;
    case "reduce_balance":
      return line.row.balance <= step.balanceAtMost;
    case "close_loans":
      return step.lenders.every((l) => !(l in state.lenders));
    case "prove_income":
      return (state.verifiedIncome ?? 0) >= step.monthlyIncomeAtLeast;
    case "wait":
      return (
        readFeatures(state, { limit: line.row.limit_amount, balance: line.row.balance }, now)[step.feature] <=
        step.atMost
      );
    case "tenure":
      return now >= step.by;
  }
}

/**
 * Turns the recourse of every freeze or closure that took effect into a rebuilding plan with
 * checkpoints, and tells the borrower. Keyed by decision, so each line gets its plan once.
 */
/**
 * Opens plans for the next chunk of freezes and closures after decision id `after`. Paging by id
 * matters: a decision skipped because its line already has a plan stays without one, and must not
 * be read again in the same pass.
 */
async function openPlans(
  deps: IngestDeps,
  after: string,
): Promise<{ read: number; opened: number; last: string }> {
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const rows = await trx
        .selectFrom("decisions")
        .innerJoin("decision_recourse", "decision_recourse.decision_id", "decisions.id")
        .leftJoin("rebuilding_plans", "rebuilding_plans.decision_id", "decisions.id")
        .select([
          "decisions.id",
          "decisions.account_id",
          "decisions.from_limit",
          "decision_recourse.recourse",
        ])
        .where("decisions.status", "=", "applied")
        .where("decisions.action", "in", ["freeze", "close"])
        .where("decision_recourse.available", "=", 1)
        .where("rebuilding_plans.id", "is", null)
        .where("decisions.id", ">", after)
        .orderBy("decisions.id")
        .limit(PLAN_CHUNK)
        .execute();
      const writes = new WriteSet(deps.engine, now);
      let opened = 0;
      // One plan per line: a freeze repeated on a line that already has a plan leaves that plan in place.
      const withPlan = new Set(
        (
          await trx
            .selectFrom("rebuilding_plans")
            .select("account_id")
            .where("status", "=", "active")
            .where("account_id", "in", rows.length === 0 ? [""] : rows.map((r) => r.account_id))
            .execute()
        ).map((r) => r.account_id),
      );
      for (const row of rows) {
        if (withPlan.has(row.account_id)) continue;
        withPlan.add(row.account_id);
        const recourse = JSON.parse(row.recourse) as Recourse;
        const checkpoints: Checkpoint[] = recourse.steps.map((step) => ({
          step,
          ...stepText(step),
          metAt: null,
        }));
        const plan: RebuildingPlanTable = {
          id: deterministicId("pln", row.id),
          account_id: row.account_id,
          decision_id: row.id,
          status: "active",
          plan: JSON.stringify({ goal: recourse.goal, by: recourse.by, en: recourse.en, zh: recourse.zh }),
          checkpoints: JSON.stringify(checkpoints),
          target_limit: recourse.outcome?.limit ?? row.from_limit,
          created_at: now,
          completed_at: null,
          outcome: null,
        };
        await trx.insertInto("rebuilding_plans").values(plan).execute();
        opened++;
        writes.seal("rebuilding_plan", plan.id, planBodyHash(plan));
        writes.outbox.push(
          borrowerNotice(
            plan.account_id,
            "plan_created",
            plan.id,
            {
              planId: plan.id,
              decisionId: row.id,
              checkpoints: checkpoints.map((c) => ({ en: c.en, zh: c.zh })),
              en: `Your way back: ${recourse.en}`,
              zh: `恢复计划：${recourse.zh}`,
            },
            now,
          ),
        );
      }
      await writes.flush(trx, deps.store);
      return { read: rows.length, opened, last: rows.at(-1)?.id ?? after };
    }),
  );
}

/**
 * Checks every active plan against its line. When every checkpoint holds, the line gets a fresh
 * decision (the policy's reopen rule with its ability-to-pay check); a reopened line closes the
 * plan and the borrower is told. A line another decision reopened first also closes its plan.
 */
async function checkPlans(deps: IngestDeps): Promise<{ checked: number; reopened: number }> {
  let after = "";
  const total = { checked: 0, reopened: 0 };
  for (;;) {
    const chunk = await deps.writeLock.run(() =>
      deps.store.db.transaction().execute(async (trx) => {
        const now = deps.clock();
        const plans = await trx
          .selectFrom("rebuilding_plans")
          .selectAll()
          .where("status", "=", "active")
          .where("id", ">", after)
          .orderBy("id")
          .limit(PLAN_CHUNK)
          .execute();
        const lines = await loadLines(trx, deps.store, [...new Set(plans.map((p) => p.account_id))]);
        const measures = await classMeasuresIn(trx);
        // A reopening raises a closed line's limit: it spends exposure budget, or queues (budgetQueue.ts).
        const writes = new WriteSet(deps.engine, now, await BudgetBook.open(trx));
        let reopened = 0;
        for (const plan of plans) {
          const line = lines.get(plan.account_id);
          if (line === undefined) continue;
          const checkpoints = JSON.parse(plan.checkpoints) as Checkpoint[];
          for (const c of checkpoints) c.metAt = isMet(c.step, line, now) ? (c.metAt ?? now) : null;
          let status = plan.status;
          let outcome: string | null = null;
          let classWide: ReturnType<typeof classWideNotice> | null = null;
          if (line.row.status === "ACTIVE") {
            status = "reopened";
            outcome = "the line was reopened by a later decision";
          } else if (checkpoints.every((c) => c.metAt !== null)) {
            const result = reopenLine(deps, writes, line, plan, now, measures);
            outcome = result.outcome;
            classWide = result.classWide;
            if (result.reopened) {
              status = "reopened";
              reopened++;
            }
          }
          await trx
            .updateTable("rebuilding_plans")
            .set({
              checkpoints: JSON.stringify(checkpoints),
              status,
              outcome,
              completed_at: status === "active" ? null : now,
            })
            .where("id", "=", plan.id)
            .execute();
          if (status === "reopened")
            writes.outbox.push(
              borrowerNotice(
                plan.account_id,
                "plan_met",
                plan.id,
                {
                  planId: plan.id,
                  limit: line.row.limit_amount,
                  classWide,
                  en: `You completed your plan: your line is open again with a limit of ${formatYuan(line.row.limit_amount)} yuan.${classWide === null ? "" : ` ${classWide.en}`}`,
                  zh: `您已完成恢复计划：额度已重新开通，额度为${formatYuan(line.row.limit_amount)}元。${classWide === null ? "" : classWide.zh}`,
                },
                now,
              ),
            );
        }
        await saveLines(trx, deps.store, lines.values(), now);
        await writes.flush(trx, deps.store);
        return { plans, reopened };
      }),
    );
    total.checked += chunk.plans.length;
    total.reopened += chunk.reopened;
    const last = chunk.plans.at(-1);
    if (last === undefined || chunk.plans.length < PLAN_CHUNK) return total;
    after = last.id;
  }
}

/**
 * A fresh decision for a line whose plan is met. A closed line is judged as a frozen line at the
 * limit the plan promised, so the same reopen rule and ability-to-pay check decide both. It is a
 * live decision: it decides under the class-wide measures in force, so a line reopens no higher
 * than a measure allows, and a reopening a measure held down says so (`classWide`).
 */
export function decideReopen(
  engine: ActiveEngine,
  line: LineRecord,
  plan: RebuildingPlanTable,
  actor: string,
  now: number,
  measures: ClassMeasureSettings,
): { input: DecisionInput; decision: Decision } {
  const input = decisionInput(line, { kind: "analyst", actor }, now, measures);
  if (line.row.status === "CLOSED") {
    // Closing set the limit to zero; the line is judged at the limit the plan promised, and the
    // share of it in use is read against that limit too.
    input.line = {
      ...input.line,
      status: "FROZEN",
      limit: plan.target_limit,
      highestLimit30d: plan.target_limit,
    };
    input.features = readFeatures(line.state, { limit: plan.target_limit, balance: line.row.balance }, now);
  }
  // The line's arm decides, as on every live path: a challenger's line reopens by its rules.
  return { input, decision: decide(input, contextFor(engine, line.row.account_id), now) };
}

/**
 * Reopens a line whose plan is met, when the fresh decision says so. Reopening a closed line
 * spends exposure budget; without room it waits in the budget queue (ahead of ordinary
 * increases), the line announced as reopening, and the queue grants it (budgetQueue.ts).
 */
function reopenLine(
  deps: IngestDeps,
  writes: WriteSet,
  line: LineRecord,
  plan: RebuildingPlanTable,
  now: number,
  measures: ClassMeasureSettings,
): { reopened: boolean; outcome: string; classWide: ReturnType<typeof classWideNotice> | null } {
  if (line.row.pending_action === "reopen")
    return {
      reopened: false,
      outcome: "plan met; the line's reopening waits for exposure budget room",
      classWide: null,
    };
  const actor = `rebuilding-plan:${plan.id}`;
  const { input, decision } = decideReopen(deps.engine, line, plan, actor, now, measures);
  if (decision.action !== "reopen")
    return {
      reopened: false,
      outcome: `plan met; reopening refused: ${decision.trace.guardrails.join("; ") || "the reopen rule does not hold yet"}`,
      classWide: null,
    };
  // Keyed by the pass: a reopening the queue let lapse may be decided again on a later pass.
  const recorded = writes.record(line, input, decision, `plan:${plan.id}:reopen:${now}`);
  if (recorded.status === "queued")
    return {
      reopened: false,
      outcome: "plan met; the reopening waits for exposure budget room",
      classWide: null,
    };
  const reopened = {
    reopened: line.row.status === "ACTIVE",
    outcome: `reopened at ${line.row.limit_amount} fen`,
  };
  const measure = decision.classWide;
  if (measure === undefined) return { ...reopened, classWide: null };
  return {
    reopened: reopened.reopened,
    outcome: `${reopened.outcome} under a class-wide measure (${measure.withoutMeasures.toLimit} fen without it)`,
    classWide: classWideNotice(measure, line.row.region),
  };
}

/** The plans pass the review job runs: open plans for new freezes and closures, then check them. */
export async function runRebuildingPlans(
  deps: IngestDeps,
): Promise<{ opened: number; checked: number; reopened: number }> {
  let opened = 0;
  let after = "";
  for (;;) {
    const chunk = await openPlans(deps, after);
    opened += chunk.opened;
    after = chunk.last;
    if (chunk.read < PLAN_CHUNK) break;
  }
  return { opened, ...(await checkPlans(deps)) };
}

export async function listPlans(deps: IngestDeps, accountId: string) {
  const rows = await deps.store.db
    .selectFrom("rebuilding_plans")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  return rows.map((p) => ({
    planId: p.id,
    decisionId: p.decision_id,
    status: p.status,
    targetLimit: p.target_limit,
    plan: JSON.parse(p.plan) as Record<string, unknown>,
    checkpoints: (JSON.parse(p.checkpoints) as Checkpoint[]).map((c) => ({
      kind: c.step.kind,
      en: c.en,
      zh: c.zh,
      met: c.metAt !== null,
      metAt: c.metAt === null ? null : new Date(c.metAt).toISOString(),
    })),
    createdAt: new Date(p.created_at).toISOString(),
    completedAt: p.completed_at === null ? null : new Date(p.completed_at).toISOString(),
    outcome: p.outcome,
  }));
}

/** The recourse of the latest adverse decision on an account. */
export async function latestRecourse(deps: IngestDeps, accountId: string) {
  const row = await deps.store.db
    .selectFrom("decision_recourse")
    .innerJoin("decisions", "decisions.id", "decision_recourse.decision_id")
    .select(["decision_recourse.id", "decision_recourse.decision_id", "decision_recourse.recourse"])
    .where("decision_recourse.account_id", "=", accountId)
    .orderBy("decisions.decided_at", "desc")
    .orderBy("decisions.id", "desc")
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    recourseId: row.id,
    decisionId: row.decision_id,
    recourse: JSON.parse(row.recourse) as Record<string, unknown>,
  };
}
