import type { Transaction } from "kysely";
import { bodyHash } from "../engine/ledger.ts";
import type { StoreDialect } from "../store/connect.ts";
import { insertInTransaction } from "../store/rowInserts.ts";
import type { Database, OutboxTable } from "../store/schema.ts";
import { statementChunks } from "../store/shapedStatements.ts";
import type { Sealed } from "./writeSet.ts";

/**
 * The seal covers what the borrower is told and when; the delivery status, attempts and errors
 * move as the notice is delivered and are not part of it.
 */
export function noticeBodyHash(n: OutboxTable): string {
  return bodyHash([n.id, n.idempotency_key, n.account_id, n.kind, n.payload, n.created_at]);
}

/**
 * Writes notices to the outbox in the caller's transaction and returns the seals of the ones
 * actually written, for the caller's ledger append. A notice whose idempotency key is already
 * there (a retried request) is skipped and not sealed twice.
 */
export async function writeNotices(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  notices: readonly OutboxTable[],
): Promise<Sealed[]> {
  const seals: Sealed[] = [];
  for (const chunk of statementChunks(notices)) {
    const written = await insertInTransaction(trx, dialect, "outbox")
      .values(chunk)
      .onConflict((oc) => oc.column("idempotency_key").doNothing())
      .returning("id")
      .execute();
    const ids = new Set(written.map((r) => r.id));
    // The first row with an id is the one written; a later twin in the same chunk was skipped.
    for (const notice of chunk)
      if (ids.delete(notice.id))
        seals.push({ kind: "notice", refId: notice.id, bodyHash: noticeBodyHash(notice) });
  }
  return seals;
}
