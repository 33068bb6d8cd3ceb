import type { Transaction } from "kysely";
import { type DecisionTrigger, decide } from "../engine/decide.ts";
import type { BudgetQueueTable, Database, RebuildingPlanTable } from "../store/schema.ts";
import { BudgetBook, type QueueKind, queuePd, queueRank } from "./budgetBook.ts";
import { classMeasuresIn } from "./classMeasures.ts";
import { contextFor } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { decisionInput } from "./lineBook.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { decideReopen } from "./plans.ts";
import {
  clearRestorationMark,
  grantReversal,
  supersededRestorations,
  withdrawRestoration,
} from "./restorations.ts";
import { WriteSet } from "./writeSet.ts";

const DRAIN_CHUNK = 500;

/**
 * Grants waiting requests as budget room allows, in priority order: appeal reversals first (a
 * limit the borrower already had), then plans' reopenings, each by arrival; then ordinary
 * increases by risk (lowest PD, then earliest). Run when room frees up (a cap raise, and each
 * background pass after cuts and repayments).
 *
 * An increase or a reopening is decided again now, so it is granted only if it is still deserved;
 * one that no longer is lapses. A reversal is a reviewer's outcome, not a policy decision: it is
 * granted as decided, unless a later adverse decision overtook it. A request that does not fit
 * waits, and so does every lower-priority one sharing a budget with it: a small request cannot
 * overtake a better one.
 */
export async function drainBudgetQueue(deps: IngestDeps): Promise<{ granted: number; lapsed: number }> {
  const { store, engine } = deps;
  return deps.writeLock.run(() =>
    store.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const waiting = await trx
        .selectFrom("budget_queue")
        .selectAll()
        .where("status", "=", "waiting")
        .orderBy(queueRank)
        .orderBy(queuePd)
        .orderBy("requested_at")
        .orderBy("account_id")
        .limit(DRAIN_CHUNK)
        .execute();
      if (waiting.length === 0) return { granted: 0, lapsed: 0 };
      const lines = await loadLines(trx, store, [...new Set(waiting.map((w) => w.account_id))]);
      const book = await BudgetBook.open(trx);
      const measures = await classMeasuresIn(trx);
      const superseded = await supersededRestorations(trx, waiting);
      const plans = await activePlans(trx, waiting);
      const announced = await announcedIncreases(trx, waiting);
      const writes = new WriteSet(engine, now, book);
      let granted = 0;
      let lapsed = 0;
      const lapse = (entry: BudgetQueueTable, why: { en: string; zh: string } | null) => {
        if (why === null) writes.settleQueued(queued(entry), "lapsed", null);
        else withdrawRestoration(writes, lines.get(entry.account_id), entry, why, now);
        book.settle(queued(entry));
        lapsed++;
      };
      for (const entry of waiting) {
        const line = lines.get(entry.account_id);
        const overtaking = superseded.get(entry.id);
        if (line !== undefined && overtaking !== undefined) {
          lapse(entry, {
            en: `a later decision (${overtaking}) changed your line; its notice gives the reasons and how to appeal it.`,
            zh: `之后的一项决定（${overtaking}）已调整您的额度，其通知中载明原因及申诉方式。`,
          });
          continue;
        }
        const scope = line && {
          accountId: entry.account_id,
          region: line.row.region,
          segment: line.row.segment,
        };
        const priority = { ...queued(entry), pd: entry.pd, requestedAt: entry.requested_at };
        if (entry.kind === "reversal") {
          if (line === undefined || scope === undefined) {
            lapse(entry, null);
            continue;
          }
          const amount = entry.requested_limit - line.row.limit_amount;
          if (!book.admitIncrease(scope, priority, amount).ok) continue;
          grantReversal(writes, line, entry, now);
          book.settle(priority);
          granted++;
          continue;
        }
        if (entry.kind === "reopen") {
          const plan = plans.get(entry.account_id);
          if (
            line === undefined ||
            scope === undefined ||
            plan === undefined ||
            line.row.status === "ACTIVE"
          ) {
            lapse(entry, null);
            if (line !== undefined) clearRestorationMark(line, entry);
            continue;
          }
          // Decided again now, without the announcement the queue put on the line.
          const mark = { id: line.row.pending_decision_id, action: line.row.pending_action };
          clearRestorationMark(line, entry);
          const { input, decision } = decideReopen(engine, line, plan, "budget-queue", now, measures);
          if (decision.action !== "reopen") {
            lapse(entry, {
              en: `it no longer holds (${decision.trace.guardrails.join("; ") || "the reopen rule does not hold now"}); your plan stays open and is checked again.`,
              zh: "重新开通的条件目前已不满足；您的恢复计划仍然有效，我们会再次核查。",
            });
            continue;
          }
          if (!book.admitIncrease(scope, priority, decision.toLimit - line.row.limit_amount).ok) {
            line.row.pending_decision_id = mark.id;
            line.row.pending_action = mark.action;
            continue;
          }
          const row = writes.record(line, input, decision, `budget:${entry.id}`, "spent");
          writes.settleQueued(queued(entry), "granted", row.id);
          book.settle(priority);
          granted++;
          continue;
        }
        const input =
          line === undefined
            ? null
            : decisionInput(line, queueTrigger(announced.get(entry.id)), now, measures);
        const decision = input === null ? null : decide(input, contextFor(engine, entry.account_id), now);
        if (line === undefined || input === null || decision === null || decision.action !== "increase") {
          lapse(entry, null);
          continue;
        }
        if (
          scope === undefined ||
          !book.admitIncrease(scope, priority, decision.toLimit - decision.fromLimit).ok
        )
          continue;
        writes.record(line, input, decision, `budget:${entry.id}`, "spent");
        granted++;
      }
      await saveLines(trx, store, lines.values(), now);
      await writes.flush(trx, store);
      return { granted, lapsed };
    }),
  );
}

/**
 * Waiting increases that were announced with notice and came due without room: their borrowers
 * have had notice of the new limit, so when the queue grants one it takes effect at once.
 */
async function announcedIncreases(
  trx: Transaction<Database>,
  waiting: readonly BudgetQueueTable[],
): Promise<Map<string, { decisionId: string; toLimit: number }>> {
  const increases = waiting.filter((w) => w.kind === "increase");
  const announced = new Map<string, { decisionId: string; toLimit: number }>();
  if (increases.length === 0) return announced;
  const noticed = await trx
    .selectFrom("decisions")
    .select("id")
    .where(
      "id",
      "in",
      increases.map((w) => w.decision_id),
    )
    .whereRef("effective_at", ">", "decided_at")
    .execute();
  const ids = new Set(noticed.map((d) => d.id));
  for (const w of increases)
    if (ids.has(w.decision_id))
      announced.set(w.id, { decisionId: w.decision_id, toLimit: w.requested_limit });
  return announced;
}

function queueTrigger(announced: { decisionId: string; toLimit: number } | undefined): DecisionTrigger {
  return announced === undefined
    ? { kind: "analyst", actor: "budget-queue" }
    : { kind: "analyst", actor: "budget-queue", announced };
}

const queued = (entry: BudgetQueueTable) => ({
  kind: entry.kind as QueueKind,
  accountId: entry.account_id,
  ref: entry.ref_id,
});

/** The active rebuilding plan of each account whose reopening waits (one per line). */
async function activePlans(
  trx: Parameters<typeof supersededRestorations>[0],
  entries: BudgetQueueTable[],
): Promise<Map<string, RebuildingPlanTable>> {
  const accounts = [...new Set(entries.filter((e) => e.kind === "reopen").map((e) => e.account_id))];
  if (accounts.length === 0) return new Map();
  const rows = await trx
    .selectFrom("rebuilding_plans")
    .selectAll()
    .where("account_id", "in", accounts)
    .where("status", "=", "active")
    .execute();
  return new Map(rows.map((p) => [p.account_id, p]));
}
