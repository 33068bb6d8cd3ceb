import { decide } from "../engine/decide.ts";
import { BudgetBook } from "./budgetBook.ts";
import { classMeasuresIn } from "./classMeasures.ts";
import { contextFor } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { decisionInput } from "./lineBook.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { WriteSet } from "./writeSet.ts";

const DRAIN_CHUNK = 500;

/**
 * Grants waiting increases as budget room allows, in priority order (lowest PD, then earliest):
 * run when room frees up (a cap raise, and each background pass after cuts and repayments). Each
 * account is decided again now, so an increase is granted only if it is still deserved; one that
 * no longer is lapses. An increase that does not fit waits, and so does every lower-priority one
 * sharing a budget with it: a small request cannot overtake a better one.
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
        .orderBy("pd")
        .orderBy("requested_at")
        .orderBy("account_id")
        .limit(DRAIN_CHUNK)
        .execute();
      if (waiting.length === 0) return { granted: 0, lapsed: 0 };
      const lines = await loadLines(
        trx,
        store,
        waiting.map((w) => w.account_id),
      );
      const book = await BudgetBook.open(trx);
      const measures = await classMeasuresIn(trx);
      const writes = new WriteSet(engine, now, book);
      let granted = 0;
      let lapsed = 0;
      for (const entry of waiting) {
        const line = lines.get(entry.account_id);
        const input =
          line === undefined
            ? null
            : decisionInput(line, { kind: "analyst", actor: "budget-queue" }, now, measures);
        const decision = input === null ? null : decide(input, contextFor(engine, entry.account_id), now);
        if (line === undefined || input === null || decision === null || decision.action !== "increase") {
          writes.queueSettled.set(entry.account_id, { status: "lapsed", decisionId: null });
          book.settle(entry.account_id);
          lapsed++;
          continue;
        }
        const scope = { accountId: entry.account_id, region: line.row.region, segment: line.row.segment };
        const priority = { pd: entry.pd, requestedAt: entry.requested_at, accountId: entry.account_id };
        if (!book.admitIncrease(scope, priority, decision.toLimit - decision.fromLimit).ok) continue;
        writes.record(line, input, decision, `budget:${entry.id}`, "spent");
        granted++;
      }
      await saveLines(trx, store, lines.values(), now);
      await writes.flush(trx, store);
      return { granted, lapsed };
    }),
  );
}
