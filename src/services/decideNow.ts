import { decide } from "../engine/decide.ts";
import { BudgetBook } from "./budgetBook.ts";
import { classMeasuresIn } from "./classMeasures.ts";
import { contextFor } from "./engineConfig.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { decisionInput } from "./lineBook.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { repriceLine } from "./rateChanges.ts";
import { WriteSet } from "./writeSet.ts";

/**
 * An analyst asks for a fresh decision on one account now. The request id makes a retried
 * request land on the same record instead of deciding twice.
 */
export async function decideAccountNow(
  deps: IngestDeps,
  accountId: string,
  actor: string,
  requestId: string,
): Promise<{ decisionId: string; created: boolean } | null> {
  const key = `analyst:${actor}:${requestId}`;
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom("decisions")
        .select("id")
        .where("id", "=", deterministicId("dec", key))
        .executeTakeFirst();
      if (existing !== undefined) return { decisionId: existing.id, created: false };
      const lines = await loadLines(trx, deps.store, [accountId]);
      const line = lines.get(accountId);
      if (line === undefined) return null;
      const now = deps.clock();
      const input = decisionInput(line, { kind: "analyst", actor }, now, await classMeasuresIn(trx));
      const writes = new WriteSet(deps.engine, now, await BudgetBook.open(trx));
      const decision = decide(input, contextFor(deps.engine, input.accountId), now);
      const row = writes.record(line, input, decision, key);
      repriceLine(writes, line, input, decision, key);
      await saveLines(trx, deps.store, lines.values(), now);
      await writes.flush(trx, deps.store);
      return { decisionId: row.id, created: true };
    }),
  );
}
