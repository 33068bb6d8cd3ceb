import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from "kysely";
import type { Database } from "./schema.ts";

/** Distinct statement shapes kept (the SQLite statement cache holds 256 prepared statements). */
const MAX_SHAPES = 512;
const shapes = new Map<string, string>();

/**
 * Runs a statement whose SQL depends only on its shape (table, columns, how many rows or ids),
 * not on its values. Kysely builds and compiles every statement afresh, a node per value; a hot
 * statement of a known shape here only binds values. The first run of a shape checks that the
 * values bind in the order Kysely compiles them.
 */
export async function runShaped<R>(
  db: Kysely<Database>,
  shape: string,
  parameters: readonly unknown[],
  build: () => Compilable<R>,
): Promise<QueryResult<R>> {
  let text = shapes.get(shape);
  if (text === undefined) {
    const compiled = build().compile();
    if (
      compiled.parameters.length !== parameters.length ||
      compiled.parameters.some((v, i) => v !== parameters[i])
    )
      throw new Error(`statement ${shape}: values bind in a different order than Kysely compiles them`);
    text = compiled.sql;
    if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value as string);
    shapes.set(shape, text);
  }
  return db.executeQuery(CompiledQuery.raw(text, parameters as unknown[]) as CompiledQuery<R>);
}

/** Most rows or ids one statement carries: at 25 columns, 6,400 values, well under SQLite's 32,766. */
export const ROWS_PER_STATEMENT = 256;

/**
 * Splits n items into statement sizes from a small fixed set: full statements, then the
 * remainder's binary digits (200 = 128 + 64 + 8). A handful of shapes per statement keeps every
 * one prepared, where a size per remainder would prepare (parse and plan) most statements anew.
 */
export function* statementChunks<T>(items: readonly T[]): Generator<readonly T[]> {
  let i = 0;
  for (; i + ROWS_PER_STATEMENT <= items.length; i += ROWS_PER_STATEMENT)
    yield items.slice(i, i + ROWS_PER_STATEMENT);
  for (let size = ROWS_PER_STATEMENT / 2; size >= 1; size /= 2)
    if (items.length - i >= size) {
      yield items.slice(i, i + size);
      i += size;
    }
}
