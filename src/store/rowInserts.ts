import {
  CompiledQuery,
  type Insertable,
  type InsertQueryBuilder,
  type InsertResult,
  type Kysely,
} from "kysely";
import type { StoreDialect } from "./connect.ts";
import type { Database } from "./schema.ts";

/** Rows per statement: at 25 columns, 5,000 bound values, well under SQLite's 32,766. */
export const ROWS_PER_STATEMENT = 200;
/** Distinct statement shapes kept; each is one (table, columns, row count, conflict clause). */
const MAX_SHAPES = 512;

type Table = keyof Database & string;
type Builder<T extends Table> = InsertQueryBuilder<Database, T, InsertResult>;

export interface RowConflict<T extends Table> {
  /** Names the clause in the statement cache: one name per distinct `apply`. */
  name: string;
  apply: (query: Builder<T>) => Builder<T>;
}

const shapes = new Map<string, string>();

/**
 * Inserts rows in statements of ROWS_PER_STATEMENT. Kysely builds and compiles every multi-row
 * insert afresh (a node per value), a tenth of the ingest path's CPU; here it compiles each shape
 * once and later statements of that shape only bind values. Every row must carry the same columns
 * as the first, none undefined; the first compile of a shape checks the binding order against
 * Kysely's own.
 */
export async function insertRows<T extends Table>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  table: T,
  rows: readonly Insertable<Database[T]>[],
  conflict?: RowConflict<T>,
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const columns = Object.keys(first);
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const parameters = valuesOf(table, chunk, columns);
    const key = `${dialect}|${table}|${columns.join(",")}|${chunk.length}|${conflict?.name ?? ""}`;
    let text = shapes.get(key);
    if (text === undefined) {
      const query = db.insertInto(table).values(chunk);
      const compiled = (conflict === undefined ? query : conflict.apply(query)).compile();
      assertSameBinding(table, compiled.parameters, parameters);
      text = compiled.sql;
      if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value as string);
      shapes.set(key, text);
    }
    await db.executeQuery(CompiledQuery.raw(text, parameters));
  }
}

function valuesOf(table: string, rows: readonly object[], columns: readonly string[]): unknown[] {
  const values: unknown[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    let count = 0;
    for (const _ in record) count++;
    if (count !== columns.length) throw new Error(`insertRows(${table}): rows differ in their columns`);
    for (const column of columns) {
      const value = record[column];
      if (value === undefined) throw new Error(`insertRows(${table}): ${column} is undefined`);
      values.push(value);
    }
  }
  return values;
}

function assertSameBinding(table: string, compiled: readonly unknown[], ours: readonly unknown[]): void {
  if (compiled.length !== ours.length || compiled.some((v, i) => v !== ours[i]))
    throw new Error(`insertRows(${table}): values bind in a different order than Kysely compiles them`);
}
