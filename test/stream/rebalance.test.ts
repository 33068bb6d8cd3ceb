import type { ChildProcess } from "node:child_process";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openHeadroom } from "../../src/services/headroom.ts";
import { freshStreamName, NATS_URL, natsConnection } from "../support/nats.ts";
import { freePort, runHeadroom } from "../support/server.ts";
import { freshPostgresDatabase, postgresAvailability } from "../support/stores.ts";

const nats = await natsConnection();
const pg = await postgresAvailability();
if (nats.nc === null) console.warn(`SKIPPED: partition rebalancing (${nats.reason})`);
if (!pg.ok) console.warn(`SKIPPED: partition rebalancing (${pg.reason})`);

async function owned(port: number): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return response.ok
      ? ((await response.json()) as { checks: { partitions: string } }).checks.partitions
      : null;
  } catch {
    return null;
  }
}

async function until(port: number, expected: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await owned(port);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`worker on ${port} owns ${last}, expected ${expected}`);
}

describe.skipIf(nats.nc === null || !pg.ok)("partition rebalancing between worker processes", () => {
  const stream = freshStreamName();
  const children: ChildProcess[] = [];
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;

  beforeAll(async () => {
    database = await freshPostgresDatabase();
    await (await openHeadroom({ databaseUrl: database.url })).close();
  });
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await database?.drop();
    await (await jetstreamManager(nats.nc as NonNullable<typeof nats.nc>)).streams
      .delete(stream)
      .catch(() => false);
    await nats.nc?.drain();
  });

  const start = async (partitions: string): Promise<number> => {
    const port = await freePort();
    const args = ["--database", database.url, "worker", "--nats", NATS_URL, "--stream", stream];
    children.push(
      runHeadroom([
        ...args,
        "--partition-count",
        "4",
        "--partitions",
        partitions,
        "--takeover-after",
        "500",
        "--ops-port",
        String(port),
      ]),
    );
    return port;
  };

  it("a lone worker takes every free partition, and hands back those another worker prefers when it starts", async () => {
    const b = await start("2-3");
    await until(b, "0,1,2,3");
    const a = await start("0-1");
    await until(a, "0,1");
    await until(b, "2,3");
    expect(await owned(a)).toBe("0,1");
  }, 120_000);
});
