import type { Kysely, Transaction } from "kysely";
import { decodeFeatureState, encodeFeatureState } from "../engine/featureStateCodec.ts";
import type { Store } from "../store/connect.ts";
import { insertRows, type RowConflict } from "../store/rowInserts.ts";
import type { CreditLineTable, Database } from "../store/schema.ts";
import { runShaped, statementChunks } from "../store/shapedStatements.ts";
import { type LineScope, lockBudgets } from "./budgetBook.ts";
import type { LineRecord } from "./lineBook.ts";

/**
 * Loads lines with their feature state and opt-out flag; locks them on PostgreSQL, then the
 * exposure budgets they (and any lines about to open, `opening`) count in.
 */
export async function loadLines(
  trx: Transaction<Database>,
  store: Store,
  accountIds: readonly string[],
  opening: readonly LineScope[] = [],
): Promise<Map<string, LineRecord>> {
  const lines = new Map<string, LineRecord>();
  for (const ids of statementChunks(accountIds)) {
    const query = () => {
      const read = linesWithOptOut(trx).where("credit_lines.account_id", "in", ids);
      return store.dialect === "postgres" ? read.forUpdate("credit_lines") : read;
    };
    const { rows } = await runShaped(trx, `${store.dialect}|load lines|${ids.length}`, ids, query);
    for (const r of rows) lines.set(r.account_id, lineRecord(r));
  }
  await lockScopes(trx, store, lines, opening);
  return lines;
}

/**
 * The next `limit` open lines after account `after`, in account order (of one region if asked),
 * loaded and locked as loadLines does: one range read, where a whole-book job would otherwise
 * select the ids first and then load them by id.
 */
export async function loadOpenLinesAfter(
  trx: Transaction<Database>,
  store: Store,
  after: string,
  limit: number,
  only: { region?: string } = {},
): Promise<Map<string, LineRecord>> {
  const region = only.region;
  const query = () => {
    let read = linesWithOptOut(trx)
      .where("credit_lines.account_id", ">", after)
      .where("credit_lines.status", "!=", "CLOSED");
    if (region !== undefined) read = read.where("credit_lines.region", "=", region);
    read = read.orderBy("credit_lines.account_id").limit(limit);
    return store.dialect === "postgres" ? read.forUpdate("credit_lines") : read;
  };
  const parameters = region === undefined ? [after, "CLOSED", limit] : [after, "CLOSED", region, limit];
  const shape = `${store.dialect}|open lines after|${region === undefined ? "" : "region"}`;
  const { rows } = await runShaped(trx, shape, parameters, query);
  const lines = new Map<string, LineRecord>();
  for (const r of rows) lines.set(r.account_id, lineRecord(r));
  await lockScopes(trx, store, lines, []);
  return lines;
}

function linesWithOptOut(db: Transaction<Database> | Kysely<Database>) {
  return db
    .selectFrom("credit_lines")
    .innerJoin("borrowers", "borrowers.id", "credit_lines.borrower_id")
    .selectAll("credit_lines")
    .select("borrowers.opt_out_automated");
}

function lineRecord({
  opt_out_automated,
  ...row
}: CreditLineTable & { opt_out_automated: number }): LineRecord {
  return {
    row,
    state: decodeFeatureState(row.features),
    optOutAutomated: opt_out_automated === 1,
    stateChanged: false,
    lineChanged: false,
  };
}

/** Locks the exposure budgets the loaded lines (and any about to open, `opening`) count in. */
async function lockScopes(
  trx: Transaction<Database>,
  store: Store,
  lines: Map<string, LineRecord>,
  opening: readonly LineScope[],
): Promise<void> {
  const scopes: LineScope[] = [...opening];
  for (const l of lines.values())
    scopes.push({ accountId: l.row.account_id, region: l.row.region, segment: l.row.segment });
  await lockBudgets(trx, store, scopes);
}

/** Writes back the lines (with their feature state) a transaction changed. */
export async function saveLines(
  trx: Transaction<Database>,
  store: Store,
  lines: Iterable<LineRecord>,
  at: number,
): Promise<void> {
  const changedLines = [];
  for (const line of lines) {
    if (!line.lineChanged && !line.stateChanged) continue;
    if (line.stateChanged) {
      line.row.features = encodeFeatureState(line.state);
      line.row.updated_at = at;
    }
    changedLines.push(line.row);
  }
  // In key order, each statement changes a run of neighbouring pages rather than a row on most of
  // the table's pages: on SQLite the upsert copies every page it changes into a statement journal
  // (its update part aborts on error, whatever the insert's conflict clause says).
  changedLines.sort((a, b) => (a.account_id < b.account_id ? -1 : a.account_id > b.account_id ? 1 : 0));
  await insertRows(trx, store.dialect, "credit_lines", changedLines, LINE_UPSERT);
}

const LINE_UPSERT: RowConflict<"credit_lines"> = {
  name: "line upsert",
  apply: (query) =>
    query.onConflict((oc) =>
      oc.column("account_id").doUpdateSet((eb) => ({
        status: eb.ref("excluded.status"),
        limit_amount: eb.ref("excluded.limit_amount"),
        balance: eb.ref("excluded.balance"),
        last_change_at: eb.ref("excluded.last_change_at"),
        recent_limits: eb.ref("excluded.recent_limits"),
        pending_decision_id: eb.ref("excluded.pending_decision_id"),
        pending_action: eb.ref("excluded.pending_action"),
        features: eb.ref("excluded.features"),
        rate_terms: eb.ref("excluded.rate_terms"),
        updated_at: eb.ref("excluded.updated_at"),
      })),
    ),
};

const BOOK_PAGE = 1_000;

/**
 * Every line of the book in account order, page by page, as decide() would see it now. Read
 * without locks: for analyses that change nothing (diffs, shadows, simulations).
 */
export async function* bookLines(store: Store, after = ""): AsyncGenerator<LineRecord> {
  for (;;) {
    const rows = await linesWithOptOut(store.db)
      .where("credit_lines.account_id", ">", after)
      .orderBy("credit_lines.account_id")
      .limit(BOOK_PAGE)
      .execute();
    for (const r of rows) yield lineRecord(r);
    const last = rows[rows.length - 1];
    if (rows.length < BOOK_PAGE || last === undefined) return;
    after = last.account_id;
  }
}
