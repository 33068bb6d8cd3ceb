import { randomUUID } from "node:crypto";
import { bodyHash } from "../engine/ledger.ts";
import type { ApiActionTable } from "../store/schema.ts";
import type { Principal } from "./access.ts";
import type { IngestDeps } from "./ingest.ts";
import { appendToLedger } from "./writeSet.ts";

export function apiActionBodyHash(a: ApiActionTable): string {
  return bodyHash([a.id, a.principal, a.role, a.method, a.route, a.params, a.status, a.at]);
}

/**
 * Records one write a principal made (analyst, reviewer, approver, admin, integration or
 * borrower) and seals it in the ledger. Bodies are not kept: they may hold personal data, and the
 * records they produced are sealed on their own.
 */
export async function recordApiAction(
  deps: IngestDeps,
  principal: Principal,
  action: { method: string; route: string; params: Record<string, string>; status: number },
): Promise<string> {
  const at = deps.clock();
  const row: ApiActionTable = {
    id: `act_${randomUUID()}`,
    principal: principal.id,
    role: principal.role,
    method: action.method,
    route: action.route,
    params: JSON.stringify(action.params),
    status: action.status,
    at,
  };
  await deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      await trx.insertInto("api_actions").values(row).execute();
      await appendToLedger(
        trx,
        deps.store,
        [{ kind: "api_action", refId: row.id, bodyHash: apiActionBodyHash(row) }],
        at,
      );
    }),
  );
  return row.id;
}
