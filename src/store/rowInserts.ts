import type { Insertable, InsertQueryBuilder, InsertResult, Transaction } from "kysely";
import type { StoreDialect } from "./connect.ts";
import type { Database } from "./schema.ts";
import { runShaped, statementChunks } from "./shapedStatements.ts";

type Table = keyof Database & string;
type Builder<T extends Table> = InsertQueryBuilder<Database, T, InsertResult>;

export interface RowConflict<T extends Table> {
  /** Names the clause in the statement's shape: one name per distinct `apply`. */
  name: string;
  apply: (query: Builder<T>) => Builder<T>;
}

/** What insertRows wrote. */
export interface RowsWritten {
  /** Rows written: fewer than given where a conflict clause skipped some. */
  count: number;
  /** SQLite: the rowid of the last row written, if any was. */
  lastRowId: bigint | undefined;
}

/**
 * Inserts rows in multi-row statements of a few fixed sizes (shapedStatements.ts). Every row must
 * carry the same columns as the first, none undefined.
 *
 * Only inside a transaction, which any failure rolls back whole: on SQLite the statements are
 * `insert or fail`. With the default (abort), a multi-row statement inside a transaction copies
 * every page it changes into a statement journal, to undo just itself on a constraint error;
 * with 16 KiB pages and keys spread over an index, that copying cost about a third of each insert.
 * `or fail` stops at the error without undoing the statement, which only the whole
 * transaction's rollback may then do; in autocommit mode it would commit the rows before the error.
 */
export async function insertRows<T extends Table>(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  table: T,
  rows: readonly Insertable<Database[T]>[],
  conflict?: RowConflict<T>,
): Promise<RowsWritten> {
  requireTransaction(trx, table);
  const written: RowsWritten = { count: 0, lastRowId: undefined };
  const first = rows[0];
  if (first === undefined) return written;
  const columns = Object.keys(first);
  const shape = `${dialect}|insert ${table}(${columns.join(",")})|${conflict?.name ?? ""}`;
  for (const chunk of statementChunks(rows)) {
    const result = await runShaped(trx, `${shape}|${chunk.length}`, valuesOf(table, chunk, columns), () => {
      const query = insertInTransaction(trx, dialect, table).values(chunk);
      return conflict === undefined ? query : conflict.apply(query);
    });
    const count = Number(result.numAffectedRows ?? 0);
    written.count += count;
    if (count > 0) written.lastRowId = result.insertId;
  }
  return written;
}

/**
 * An insert for a multi-row statement inside a transaction: `insert or fail` on SQLite, without a
 * statement journal (insertRows says why); the transaction's rollback undoes a failure.
 */
export function insertInTransaction<T extends Table>(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  table: T,
) {
  requireTransaction(trx, table);
  const insert = trx.insertInto(table);
  return dialect === "sqlite" ? insert.orFail() : insert;
}

function requireTransaction(trx: Transaction<Database>, table: string): void {
  if (!trx.isTransaction)
    throw new Error(`insert into ${table}: multi-row inserts run only in a transaction`);
}

function valuesOf(table: string, rows: readonly object[], columns: readonly string[]): unknown[] {
  const values: unknown[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    let count = 0;
    for (const _ in record) count++;
    if (count !== columns.length) throw new Error(`insert into ${table}: rows differ in their columns`);
    for (const column of columns) {
      const value = record[column];
      if (value === undefined) throw new Error(`insert into ${table}: ${column} is undefined`);
      values.push(value);
    }
  }
  return values;
}
