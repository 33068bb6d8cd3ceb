import { sql, type Transaction } from "kysely";
import type { Store } from "../store/connect.ts";
import type { Database } from "../store/schema.ts";
import type { LineScope } from "./budgetBook.ts";
import type { LineRecord } from "./lineBook.ts";
import { loadLines } from "./lineLoader.ts";
import type { Mutex } from "./mutex.ts";

/** About 3 KB each in memory: bounds the cache near 60 MB. */
const MAX_CACHED_LINES = 20_000;

/**
 * Lines as ingest last wrote them, kept between its transactions (SQLite only), so a line touched
 * again is neither read nor parsed again: at a few events per line per transaction, reading and
 * parsing lines was a tenth of ingest's time.
 *
 * The cache holds only while nothing else writes. Writers in this process take the write lock,
 * which forgets the cache first. Another process's commit changes the connection's PRAGMA
 * data_version; ingest reads it as its transaction's first statement, which also fixes the
 * transaction's snapshot, so a commit after it makes SQLite refuse ingest's writes
 * (SQLITE_BUSY_SNAPSHOT) and the transaction fails, forgetting the cache, instead of overwriting it.
 */
export class LineCache {
  private readonly lines = new Map<string, LineRecord>();
  private version: number | null = null;

  constructor(writeLock: Mutex) {
    writeLock.watch(this, () => this.forget());
  }

  /** First in an ingest transaction: forgets every line if another connection has committed since. */
  async open(trx: Transaction<Database>): Promise<void> {
    const { rows } = await sql<{ data_version: number }>`pragma data_version`.execute(trx);
    const version = Number(rows[0]?.data_version);
    if (version !== this.version) {
      this.lines.clear();
      this.version = version;
    }
  }

  /** As loadLines: the lines of these accounts, read from the store only where not cached. */
  async load(
    trx: Transaction<Database>,
    store: Store,
    accountIds: readonly string[],
    opening: readonly LineScope[],
  ): Promise<Map<string, LineRecord>> {
    const found = new Map<string, LineRecord>();
    const missing: string[] = [];
    for (const id of accountIds) {
      const line = this.lines.get(id);
      if (line === undefined) missing.push(id);
      else found.set(id, line);
    }
    for (const [id, line] of await loadLines(trx, store, missing, opening)) found.set(id, line);
    return found;
  }

  /** After a commit: these lines are what the store now holds. */
  keep(lines: ReadonlyMap<string, LineRecord>): void {
    for (const [accountId, line] of lines) {
      line.stateChanged = false;
      line.lineChanged = false;
      // Re-inserted, so the map's order is least recently used first.
      this.lines.delete(accountId);
      this.lines.set(accountId, line);
    }
    for (const accountId of this.lines.keys()) {
      if (this.lines.size <= MAX_CACHED_LINES) break;
      this.lines.delete(accountId);
    }
  }

  /** The cached lines may no longer be what the store holds (a failed transaction changed them). */
  forget(): void {
    this.lines.clear();
    this.version = null;
  }
}
