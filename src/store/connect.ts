import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { migrateToLatest, type StoreDialect } from "./migrations.ts";

export type { StoreDialect };

import type { Database } from "./schema.ts";
import { withStatementCache } from "./statementCache.ts";
import { FALLBACK_AUTOCHECKPOINT_PAGES, startWalCheckpointer } from "./walCheckpointer.ts";

export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Where the data lives, with any password removed, for logs. */
  location: string;
  close(): Promise<void>;
}

const PG_INT8_OID = 20;

/**
 * pg returns bigint columns as strings; every amount and time here is a bigint, so this is the one
 * place they become numbers, refusing any value a JavaScript number cannot hold exactly.
 */
pg.types.setTypeParser(PG_INT8_OID, (text: string) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is beyond 2^53`);
  return value;
});

export const DEFAULT_SQLITE_PATH = "data/headroom.db";

export interface StoreOptions {
  /**
   * PostgreSQL only: one connection, kept for the life of the process and never recycled when
   * idle, so session state on it (the stream worker's partition locks) lasts as long as it does.
   */
  singleSession?: boolean;
}

const PAGE_BYTES = 16_384;

export async function openStore(
  url: string | undefined = process.env.HEADROOM_DATABASE_URL,
  options: StoreOptions = {},
): Promise<Store> {
  const target = url ?? `sqlite:${DEFAULT_SQLITE_PATH}`;
  let store: Store;
  if (target.startsWith("postgres://") || target.startsWith("postgresql://")) {
    const pool = new pg.Pool(
      options.singleSession === true
        ? { connectionString: target, max: 1, idleTimeoutMillis: 0 }
        : { connectionString: target, max: 8 },
    );
    // A pinned session that dies while idle is the stream worker's lease lost; its fence and lease
    // checks notice on their next query and stop the worker, so the pool's report is not fatal here.
    if (options.singleSession === true) {
      pool.on("error", () => {});
      pool.on("connect", (client) => client.on("error", () => {}));
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = {
      db,
      dialect: "postgres",
      location: target.replace(/:[^:@/]*@/, ":***@"),
      close: () => db.destroy(),
    };
  } else {
    const file = target.replace(/^sqlite:/, "");
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const database = new SQLite(file);
    // Takes effect only on a new file. A commit writes each dirty page as its own WAL frame;
    // 16 KiB pages quarter the frames and halve commit time under ingest (4 KiB -> 16 KiB: 850 ->
    // 430 ms per 100k events) at little cost to point reads.
    database.pragma(`page_size = ${PAGE_BYTES}`);
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
    database.pragma("busy_timeout = 5000");
    // A background thread checkpoints (walCheckpointer.ts); the writer does only as a fallback.
    const checkpointer = file === ":memory:" ? null : startWalCheckpointer(file);
    database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    database.pragma("cache_size = -131072");
    database.pragma("temp_store = MEMORY");
    database.pragma("foreign_keys = ON");
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(database) }),
    });
    store = {
      db,
      dialect: "sqlite",
      location: file,
      close: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  await migrateToLatest(store.db, store.dialect);
  return store;
}
