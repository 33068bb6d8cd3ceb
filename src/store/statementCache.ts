import type { Database as SQLiteDatabase, Statement } from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

const MAX_CACHED_STATEMENTS = 256;

/**
 * Kysely prepares every query afresh; SQLite then parses and plans the same text again for every
 * batch (a 200-row insert is thousands of placeholders). Reusing prepared statements by their
 * text removes that. Statements are never streamed here, so a cached one is never busy.
 */
export function withStatementCache(database: SQLiteDatabase): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql) => {
      const cached = cache.get(sql);
      if (cached !== undefined) return cached;
      const statement = database.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) {
        const oldest = cache.keys().next().value as string;
        cache.delete(oldest);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
