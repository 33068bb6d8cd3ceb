import type { Insertable, InsertQueryBuilder, InsertResult, Kysely } from "kysely";
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

/**
 * Inserts rows in multi-row statements of a few fixed sizes (shapedStatements.ts). Every row must
 * carry the same columns as the first, none undefined. Returns how many rows were written (fewer
 * than given where a conflict clause skipped some).
 */
export async function insertRows<T extends Table>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  table: T,
  rows: readonly Insertable<Database[T]>[],
  conflict?: RowConflict<T>,
): Promise<number> {
  const first = rows[0];
  if (first === undefined) return 0;
  const columns = Object.keys(first);
  const shape = `${dialect}|insert ${table}(${columns.join(",")})|${conflict?.name ?? ""}`;
  let written = 0;
  for (const chunk of statementChunks(rows)) {
    const result = await runShaped(db, `${shape}|${chunk.length}`, valuesOf(table, chunk, columns), () => {
      const query = db.insertInto(table).values(chunk);
      return conflict === undefined ? query : conflict.apply(query);
    });
    written += Number(result.numAffectedRows ?? 0);
  }
  return written;
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
