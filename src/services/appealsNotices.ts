import type { OutboxTable } from "../store/schema.ts";
import { deterministicId } from "./ids.ts";

/**
 * A notice to the borrower about something other than a decision (an appeal received or decided,
 * a plan set up or met), written to the outbox in the caller's transaction. The key makes the
 * notice exactly-once: a retried request lands on the same row.
 */
export function borrowerNotice(
  accountId: string,
  kind: string,
  key: string,
  payload: Record<string, unknown>,
  at: number,
): OutboxTable {
  const idempotencyKey = `${kind}:${key}`;
  return {
    id: deterministicId("ntc", idempotencyKey),
    idempotency_key: idempotencyKey,
    account_id: accountId,
    kind,
    payload: JSON.stringify({ kind, accountId, ...payload }),
    status: "pending",
    attempts: 0,
    next_attempt_at: at,
    created_at: at,
    delivered_at: null,
    last_error: null,
  };
}
