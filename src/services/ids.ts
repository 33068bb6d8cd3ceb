import { sha256Hex } from "../engine/ledger.ts";

/** Ids derived from idempotency keys, so a retried effect lands on the same row and is refused. */
export function deterministicId(prefix: string, key: string): string {
  return `${prefix}_${sha256Hex(key).slice(0, 24)}`;
}
