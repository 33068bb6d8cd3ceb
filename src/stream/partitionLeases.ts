import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "../store/schema.ts";
import { accountHash } from "./partitions.ts";

export class LeaseLostError extends Error {
  constructor(detail: string) {
    super(`partition leases lost: ${detail}`);
    this.name = "LeaseLostError";
  }
}

/**
 * Which worker owns which partition, as PostgreSQL session advisory locks (key: stream, partition).
 * The locks live on the worker's only database session (the store is opened with singleSession),
 * the same session its ingest transactions run on. So:
 * - a killed worker's session ends with its TCP connection and PostgreSQL frees its locks at once,
 *   without any lease timeout to wait out or clock to trust;
 * - `fence` proves inside each ingest transaction that it runs on the session that holds the
 *   locks; if the connection was lost and the pool opened another, the transaction refuses to
 *   commit, and the worker stops instead of writing partitions someone else may now own.
 */
export class PartitionLeases {
  private session: number | null = null;
  private readonly streamKey: number;
  private readonly wantKey: number;

  constructor(
    private readonly db: Kysely<Database>,
    stream: string,
  ) {
    // Advisory lock keys are two signed 32-bit integers.
    this.streamKey = accountHash(stream) | 0;
    this.wantKey = accountHash(`${stream}#want`) | 0;
  }

  /**
   * Says, for as long as this session lives, that this worker prefers these partitions (a shared
   * lock per partition), so a worker holding one of them in the meantime hands it back.
   */
  async want(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) {
      await sql`select pg_advisory_lock_shared(${this.wantKey}::int4, ${partition}::int4)`.execute(this.db);
    }
  }

  /** Whether another live worker prefers this partition. */
  async wantedElsewhere(partition: number): Promise<boolean> {
    const row = await sql<{ free: boolean }>`
      select pg_try_advisory_lock(${this.wantKey}::int4, ${partition}::int4) as free`
      .execute(this.db)
      .then((r) => r.rows[0]);
    if (row?.free !== true) return true;
    await sql`select pg_advisory_unlock(${this.wantKey}::int4, ${partition}::int4)`.execute(this.db);
    return false;
  }

  /** Takes the partition if no other session holds it. */
  async tryAcquire(partition: number): Promise<boolean> {
    const row = await sql<{ locked: boolean; pid: number }>`
      select pg_try_advisory_lock(${this.streamKey}::int4, ${partition}::int4) as locked,
             pg_backend_pid() as pid`
      .execute(this.db)
      .then((r) => r.rows[0]);
    if (row === undefined) throw new Error("pg_try_advisory_lock returned no row");
    this.session ??= row.pid;
    if (row.pid !== this.session) throw new LeaseLostError(`session ${this.session} is gone`);
    return row.locked;
  }

  /** Throws when the session that took the locks is gone (they went with it). */
  async verify(): Promise<void> {
    await this.fence(this.db);
  }

  async release(partition: number): Promise<void> {
    await sql`select pg_advisory_unlock(${this.streamKey}::int4, ${partition}::int4)`.execute(this.db);
  }

  /** Throws unless the transaction runs on the session holding this worker's locks. */
  async fence(trx: Transaction<Database> | Kysely<Database>): Promise<void> {
    if (this.session === null) return;
    const row = await sql<{ pid: number }>`select pg_backend_pid() as pid`
      .execute(trx)
      .then((r) => r.rows[0]);
    if (row?.pid !== this.session) {
      throw new LeaseLostError(`session ${this.session} is gone; this transaction runs on ${row?.pid}`);
    }
  }
}
