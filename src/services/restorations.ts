import type { Transaction } from "kysely";
import { formatYuan } from "../engine/money.ts";
import type { BudgetQueueTable, Database, DecisionTable } from "../store/schema.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import { deterministicId } from "./ids.ts";
import { applyToLine, type LineRecord } from "./lineBook.ts";
import { lineChangeBodyHash, type WriteSet } from "./writeSet.ts";

/**
 * Restorations. A reviewer who reverses (or adjusts) a cut, freeze or closure that took effect
 * gives the line back a limit it had: committed credit again, so it spends exposure budget in the
 * same transaction, like an increase. It is granted ahead of the queue (it may take a budget to its
 * cap, never past it). When there is no room it waits at the front of the budget queue, the
 * borrower is told the reversal stands and the limit returns as room frees, and the line holds
 * other changes but urgent ones meanwhile; the queue grants it first (budgetQueue.ts).
 */

/** Moves the line and seals the change; the change is keyed by the appeal so it happens once. */
export function changeLine(
  writes: WriteSet,
  line: LineRecord,
  decisionId: string,
  appealId: string,
  to: { limit: number; status: string },
  at: number,
): void {
  const from = { limit: line.row.limit_amount, status: line.row.status };
  if (!applyToLine(line, { toLimit: to.limit, toStatus: to.status as "ACTIVE" }, at)) return;
  const change = {
    id: deterministicId("chg", `appeal:${appealId}`),
    account_id: line.row.account_id,
    decision_id: decisionId,
    from_limit: from.limit,
    to_limit: to.limit,
    from_status: from.status,
    to_status: to.status,
    effective_at: at,
    recorded_at: at,
  };
  writes.lineChanges.push(change);
  writes.seal("line_change", change.id, lineChangeBodyHash(change));
}

/**
 * Carries out an appeal's restoration of the line to `to`: at once when the budgets have room (or
 * it raises nothing), else queued as a reversal. Returns which.
 */
export function restoreLine(
  writes: WriteSet,
  line: LineRecord,
  decision: DecisionTable,
  appealId: string,
  to: { limit: number; status: string },
  at: number,
): "applied" | "waiting" {
  const pd = (JSON.parse(decision.output) as { pd?: number }).pd ?? 1;
  const raise = {
    kind: "reversal" as const,
    ref: appealId,
    decisionId: decision.id,
    pd,
    at,
    toLimit: to.limit,
    toStatus: to.status,
  };
  if (to.limit > line.row.limit_amount && !writes.admitRaise(line, raise)) {
    // Announced: no ordinary change is decided on the line until the limit is back.
    if (line.row.pending_decision_id === null) {
      line.row.pending_decision_id = decision.id;
      line.row.pending_action =
        to.status === "ACTIVE" && line.row.status !== "ACTIVE" ? "reopen" : "increase";
      line.lineChanged = true;
    }
    return "waiting";
  }
  changeLine(writes, line, decision.id, appealId, to, at);
  return "applied";
}

/** Clears the announcement a waiting restoration put on its line. */
export function clearRestorationMark(line: LineRecord, entry: BudgetQueueTable): void {
  if (line.row.pending_decision_id !== entry.decision_id) return;
  line.row.pending_decision_id = null;
  line.row.pending_action = null;
  line.lineChanged = true;
}

/**
 * Waiting restorations a later adverse decision overtook (an urgent freeze or closure decided
 * after the restoration was queued): by entry id, the decision that did. Such a line is not given
 * back its limit; the later decision carries its own reasons and its own right of appeal.
 */
export async function supersededRestorations(
  trx: Transaction<Database>,
  entries: readonly BudgetQueueTable[],
): Promise<Map<string, string>> {
  const restorations = entries.filter((e) => e.kind !== "increase");
  const superseded = new Map<string, string>();
  if (restorations.length === 0) return superseded;
  const since = Math.min(...restorations.map((e) => e.requested_at));
  const later = await trx
    .selectFrom("decisions")
    .select(["id", "account_id", "decided_at"])
    .where("account_id", "in", [...new Set(restorations.map((e) => e.account_id))])
    .where("adverse", "=", 1)
    .where("decided_at", ">=", since)
    .where("status", "not in", ["cancelled", "reversed", "no_change"])
    .orderBy("decided_at")
    .execute();
  for (const e of restorations) {
    const overtaking = later.find(
      (d) => d.account_id === e.account_id && d.decided_at >= e.requested_at && d.id !== e.decision_id,
    );
    if (overtaking !== undefined) superseded.set(e.id, overtaking.id);
  }
  return superseded;
}

/** The queue granted a waiting reversal: the line gets its limit back and the borrower is told. */
export function grantReversal(writes: WriteSet, line: LineRecord, entry: BudgetQueueTable, at: number): void {
  const appealId = entry.ref_id ?? entry.decision_id;
  clearRestorationMark(line, entry);
  const to = {
    limit: Math.max(entry.requested_limit, line.row.limit_amount),
    status: entry.to_status ?? line.row.status,
  };
  changeLine(writes, line, entry.decision_id, appealId, to, at);
  writes.settleQueued(
    { kind: "reversal", accountId: entry.account_id, ref: entry.ref_id },
    "granted",
    entry.decision_id,
  );
  const limit = formatYuan(to.limit);
  writes.outbox.push(
    borrowerNotice(
      entry.account_id,
      "limit_restored",
      appealId,
      {
        appealId,
        decisionId: entry.decision_id,
        limit: to.limit,
        en: `The reversal a reviewer decided on your appeal has taken effect: your limit is back to ${limit} yuan.`,
        zh: `复核人员在您申诉中作出的撤销决定已生效：您的额度已恢复为${limit}元。`,
      },
      at,
    ),
  );
}

/**
 * A waiting restoration that will not be granted: a later decision overtook it, or (a reopening)
 * it no longer holds when decided again. The borrower, who was told it was on its way, is told why.
 */
export function withdrawRestoration(
  writes: WriteSet,
  line: LineRecord | undefined,
  entry: BudgetQueueTable,
  why: { en: string; zh: string },
  at: number,
): void {
  if (line !== undefined) clearRestorationMark(line, entry);
  writes.settleQueued(
    { kind: entry.kind as "reversal" | "reopen", accountId: entry.account_id, ref: entry.ref_id },
    "lapsed",
    null,
  );
  writes.outbox.push(
    borrowerNotice(
      entry.account_id,
      "restoration_withdrawn",
      entry.id,
      {
        decisionId: entry.decision_id,
        appealId: entry.ref_id,
        en: `The ${entry.kind === "reversal" ? "limit your appeal restored" : "reopening of your line"} will not take effect for now: ${why.en}`,
        zh: `${entry.kind === "reversal" ? "您申诉恢复的额度" : "您额度的重新开通"}暂不生效：${why.zh}`,
      },
      at,
    ),
  );
}
