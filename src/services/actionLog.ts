import { randomUUID } from "node:crypto";
import { bodyHash } from "../engine/ledger.ts";
import type { ApiActionTable } from "../store/schema.ts";
import type { Principal } from "./access.ts";
import { GroupCommit } from "./groupCommit.ts";
import type { IngestDeps } from "./ingest.ts";
import { appendToLedger } from "./writeSet.ts";

export function apiActionBodyHash(a: ApiActionTable): string {
  return bodyHash([a.id, a.principal, a.role, a.method, a.route, a.params, a.status, a.at]);
}

export interface ApiAction {
  method: string;
  route: string;
  params: Record<string, string>;
  status: number;
}

/** The record of one write by a principal, as stored and sealed. */
export function apiActionRow(principal: Principal, action: ApiAction, at: number): ApiActionTable {
  return {
    id: `act_${randomUUID()}`,
    principal: principal.id,
    role: principal.role,
    method: action.method,
    route: action.route,
    params: JSON.stringify(action.params),
    status: action.status,
    at,
  };
}

/** Most actions one transaction records (one multi-row insert stays well under SQLite's limits). */
const MAX_ACTIONS_PER_TRANSACTION = 100;

/**
 * Records each write a principal made (analyst, reviewer, approver, admin, integration or
 * borrower) and seals it in the ledger. Bodies are not kept: they may hold personal data, and the
 * records they produced are sealed on their own. Concurrent requests' actions commit together.
 */
export class ApiActionLog {
  private readonly actions: GroupCommit<ApiActionTable, string>;

  constructor(private readonly deps: IngestDeps) {
    this.actions = new GroupCommit((rows) => this.commit(rows), MAX_ACTIONS_PER_TRANSACTION);
  }

  record(principal: Principal, action: ApiAction): Promise<string> {
    return this.actions.submit(apiActionRow(principal, action, this.deps.clock()));
  }

  private commit(rows: ApiActionTable[]): Promise<string[]> {
    const { store, writeLock } = this.deps;
    const at = Math.max(...rows.map((r) => r.at));
    return writeLock.run(() =>
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto("api_actions").values(rows).execute();
        await appendToLedger(
          trx,
          store,
          rows.map((row) => ({ kind: "api_action", refId: row.id, bodyHash: apiActionBodyHash(row) })),
          at,
        );
        return rows.map((r) => r.id);
      }),
    );
  }
}
