import pg from "pg";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";

export const PG_ADMIN_URL = process.env.HEADROOM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether the local PostgreSQL answers, and why not when it does not. */
export async function postgresAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `PostgreSQL at ${PG_ADMIN_URL} is not reachable: ${String(error)}` };
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh, empty PostgreSQL database for one test file; dropped by the returned cleanup. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `headroom_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // A closed pool's sockets may still be finishing their goodbye; forcing the drop at once would
      // answer them with a fatal error that surfaces as an uncaught exception in the test process.
      for (let attempt = 0; attempt < 40; attempt++) {
        const { rows } = await c.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = $1",
          [name],
        );
        if (Number(rows[0]?.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface StoreTarget {
  name: "sqlite" | "postgres";
  open(clock: () => number): Promise<Headroom & { dispose(): Promise<void> }>;
}

export const sqliteTarget: StoreTarget = {
  name: "sqlite",
  async open(clock) {
    const headroom = await openHeadroom({ databaseUrl: "sqlite::memory:", clock });
    return { ...headroom, dispose: () => headroom.close() };
  },
};

export const postgresTarget: StoreTarget = {
  name: "postgres",
  async open(clock) {
    const database = await freshPostgresDatabase();
    const headroom = await openHeadroom({ databaseUrl: database.url, clock });
    return {
      ...headroom,
      dispose: async () => {
        await headroom.close();
        await database.drop();
      },
    };
  },
};

/** A clock the test moves by hand. */
export function manualClock(start: number): {
  now: () => number;
  set(at: number): void;
  advanceDays(days: number): void;
} {
  let at = start;
  return {
    now: () => at,
    set(value) {
      at = value;
    },
    advanceDays(days) {
      at += days * 86_400_000;
    },
  };
}

/**
 * SQLite always, PostgreSQL when reachable; when it is not, says SKIPPED with the reason for the
 * named suite. Suites run `describe.skipIf(skip)` over these.
 */
export async function storeTargets(suite: string): Promise<{ target: StoreTarget; skip: boolean }[]> {
  const pg = await postgresAvailability();
  if (!pg.ok) console.warn(`SKIPPED: the PostgreSQL run of ${suite} (${pg.reason})`);
  return [
    { target: sqliteTarget, skip: false },
    { target: postgresTarget, skip: !pg.ok },
  ];
}
