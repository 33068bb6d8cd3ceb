import type { Transaction } from "kysely";
import type { FeatureState } from "../engine/features.ts";
import type { Store } from "../store/connect.ts";
import type { Database } from "../store/schema.ts";
import type { LineRecord } from "./lineBook.ts";

const IDS_PER_QUERY = 500;

/** Loads lines with their feature state and opt-out flag; locks them on PostgreSQL. */
export async function loadLines(
  trx: Transaction<Database>,
  store: Store,
  accountIds: readonly string[],
): Promise<Map<string, LineRecord>> {
  const lines = new Map<string, LineRecord>();
  for (let i = 0; i < accountIds.length; i += IDS_PER_QUERY) {
    const ids = accountIds.slice(i, i + IDS_PER_QUERY);
    let query = trx
      .selectFrom("credit_lines")
      .innerJoin("feature_states", "feature_states.account_id", "credit_lines.account_id")
      .innerJoin("borrowers", "borrowers.id", "credit_lines.borrower_id")
      .selectAll("credit_lines")
      .select(["feature_states.state", "borrowers.opt_out_automated"])
      .where("credit_lines.account_id", "in", ids);
    if (store.dialect === "postgres") query = query.forUpdate("credit_lines");
    for (const r of await query.execute()) {
      const { state, opt_out_automated, ...row } = r;
      lines.set(row.account_id, {
        row,
        state: JSON.parse(state) as FeatureState,
        optOutAutomated: opt_out_automated === 1,
        stateChanged: false,
        lineChanged: false,
      });
    }
  }
  return lines;
}

const ROWS_PER_STATEMENT = 200;

/** Writes back the lines and feature states a transaction changed. */
export async function saveLines(
  trx: Transaction<Database>,
  lines: Iterable<LineRecord>,
  at: number,
): Promise<void> {
  const changedLines = [];
  const changedStates = [];
  for (const line of lines) {
    if (line.lineChanged) changedLines.push(line.row);
    if (line.stateChanged) {
      changedStates.push({
        account_id: line.row.account_id,
        state: JSON.stringify(line.state),
        updated_at: at,
      });
    }
  }
  for (let i = 0; i < changedLines.length; i += ROWS_PER_STATEMENT) {
    await trx
      .insertInto("credit_lines")
      .values(changedLines.slice(i, i + ROWS_PER_STATEMENT))
      .onConflict((oc) =>
        oc.column("account_id").doUpdateSet((eb) => ({
          status: eb.ref("excluded.status"),
          limit_amount: eb.ref("excluded.limit_amount"),
          balance: eb.ref("excluded.balance"),
          last_change_at: eb.ref("excluded.last_change_at"),
          recent_limits: eb.ref("excluded.recent_limits"),
          pending_decision_id: eb.ref("excluded.pending_decision_id"),
          pending_action: eb.ref("excluded.pending_action"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .execute();
  }
  for (let i = 0; i < changedStates.length; i += ROWS_PER_STATEMENT) {
    await trx
      .insertInto("feature_states")
      .values(changedStates.slice(i, i + ROWS_PER_STATEMENT))
      .onConflict((oc) =>
        oc.column("account_id").doUpdateSet((eb) => ({
          state: eb.ref("excluded.state"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .execute();
  }
}
