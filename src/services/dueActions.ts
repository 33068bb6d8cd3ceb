import { BudgetBook } from "./budgetBook.ts";
import type { IngestDeps } from "./ingest.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { applyRateDecision, isRateDecision } from "./rateChanges.ts";
import { WriteSet } from "./writeSet.ts";

const DUE_CHUNK = 500;

/**
 * Carries out announced changes whose notice period has run. A line closed in the meantime
 * cancels the pending change; anything else applies it and tells the borrower it took effect. An
 * announced increase spends exposure budget now, or joins the budget queue like any increase.
 */
export async function applyDueActions(deps: IngestDeps): Promise<{ applied: number; cancelled: number }> {
  const { store, engine } = deps;
  const total = { applied: 0, cancelled: 0 };
  for (;;) {
    const done = await deps.writeLock.run(() =>
      store.db.transaction().execute(async (trx) => {
        const now = deps.clock();
        const due = await trx
          .selectFrom("decisions")
          .selectAll()
          .where("status", "=", "scheduled")
          .where("effective_at", "<=", now)
          .orderBy("effective_at")
          .limit(DUE_CHUNK)
          .execute();
        if (due.length === 0) return true;
        const lines = await loadLines(trx, store, [...new Set(due.map((d) => d.account_id))]);
        const writes = new WriteSet(engine, now, await BudgetBook.open(trx));
        for (const decision of due) {
          const line = lines.get(decision.account_id);
          if (isRateDecision(decision)) {
            // A rate rise waits on the line's rate terms, not on its pending limit change.
            const applied =
              line !== undefined &&
              line.row.status !== "CLOSED" &&
              (await applyRateDecision(trx, writes, line, decision));
            total[applied ? "applied" : "cancelled"]++;
            await trx
              .updateTable("decisions")
              .set({ status: applied ? "applied" : "cancelled" })
              .where("id", "=", decision.id)
              .execute();
            continue;
          }
          const stillPending = line?.row.pending_decision_id === decision.id;
          let status: "applied" | "cancelled" | "queued" =
            line !== undefined && stillPending && line.row.status !== "CLOSED" ? "applied" : "cancelled";
          if (line !== undefined && stillPending) {
            line.row.pending_decision_id = null;
            line.row.pending_action = null;
            line.lineChanged = true;
          }
          if (
            status === "applied" &&
            line !== undefined &&
            decision.action === "increase" &&
            decision.to_limit > line.row.limit_amount &&
            !writes.admitRaise(line, {
              kind: "increase",
              decisionId: decision.id,
              pd: (JSON.parse(decision.output) as { pd: number }).pd,
              at: now,
              toLimit: decision.to_limit,
            })
          )
            status = "queued";
          if (status === "applied" && line !== undefined) {
            writes.applyDecision(line, {
              ...decision,
              to_status: line.row.status === "FROZEN" ? "FROZEN" : decision.to_status,
            });
            writes.notify(line, decision, "action_applied", null);
            total.applied++;
          } else if (status === "cancelled") {
            total.cancelled++;
          }
          await trx.updateTable("decisions").set({ status }).where("id", "=", decision.id).execute();
        }
        await saveLines(trx, store, lines.values(), now);
        await writes.flush(trx, store);
        return due.length < DUE_CHUNK;
      }),
    );
    if (done) return total;
  }
}
