import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";
import { LeaseLostError, PartitionLeases } from "../../src/stream/partitionLeases.ts";
import { opened } from "../support/events.ts";
import { freshPostgresDatabase, postgresAvailability } from "../support/stores.ts";

const pg = await postgresAvailability();
if (!pg.ok) console.warn(`SKIPPED: partition leases (${pg.reason})`);

/** A worker's view: one pinned session, its leases, and ingest fenced by them. */
async function workerHeadroom(
  url: string,
  stream: string,
): Promise<{ headroom: Headroom; leases: PartitionLeases }> {
  let leases: PartitionLeases | undefined;
  const headroom = await openHeadroom({
    databaseUrl: url,
    store: { singleSession: true },
    fence: async (trx) => leases?.fence(trx),
  });
  leases = new PartitionLeases(headroom.store.db, stream);
  return { headroom, leases };
}

describe.skipIf(!pg.ok)("partition leases (PostgreSQL advisory locks)", () => {
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let admin: Headroom;

  beforeAll(async () => {
    database = await freshPostgresDatabase();
    admin = await openHeadroom({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await admin?.close();
    await database?.drop();
  });

  it("gives a partition to one session at a time and frees it when that session ends", async () => {
    const a = await workerHeadroom(database.url, "S1");
    const b = await workerHeadroom(database.url, "S1");
    const other = await workerHeadroom(database.url, "S2");
    try {
      expect(await a.leases.tryAcquire(3)).toBe(true);
      expect(await b.leases.tryAcquire(3)).toBe(false);
      expect(await b.leases.tryAcquire(4)).toBe(true);
      // Another stream's partition 3 is another lock.
      expect(await other.leases.tryAcquire(3)).toBe(true);
      await a.headroom.close();
      // The server lets the locks go when the backend has exited, a moment after the client left.
      let taken = false;
      for (let attempt = 0; attempt < 50 && !taken; attempt++) {
        taken = await b.leases.tryAcquire(3);
        if (!taken) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(taken).toBe(true);
    } finally {
      await b.headroom.close();
      await other.headroom.close();
    }
  });

  it("refuses to commit once the session holding the locks is gone, so a lost worker writes nothing", async () => {
    const worker = await workerHeadroom(database.url, "S3");
    try {
      expect(await worker.leases.tryAcquire(0)).toBe(true);
      await worker.headroom.intake.submit([opened("acc-fenced-1", Date.UTC(2026, 0, 1))]);
      const { pid } = await worker.headroom.store.db
        .selectNoFrom((eb) => eb.fn<number>("pg_backend_pid", []).as("pid"))
        .executeTakeFirstOrThrow();
      await admin.store.db
        .selectNoFrom((eb) => eb.fn("pg_terminate_backend", [eb.val(pid)]).as("done"))
        .execute();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The pool reconnects on a new session, which holds no lock: the fence stops the batch.
      let error: unknown;
      for (let attempt = 0; attempt < 3 && error === undefined; attempt++) {
        try {
          await worker.headroom.intake.submit([opened("acc-fenced-2", Date.UTC(2026, 0, 1))]);
        } catch (e) {
          if (e instanceof LeaseLostError) error = e;
        }
      }
      expect(error).toBeInstanceOf(LeaseLostError);
      const accounts = await admin.store.db.selectFrom("credit_lines").select("account_id").execute();
      expect(accounts.map((a) => a.account_id)).toEqual(["acc-fenced-1"]);
    } finally {
      await worker.headroom.close();
    }
  });
});
