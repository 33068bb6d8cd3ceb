import type { ChildProcess } from "node:child_process";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EVENTS_PER_BATCH } from "../../src/engine/events.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { ensureEventStream, partitionLag } from "../../src/stream/jetstream.ts";
import { generatedEvents, publishEvents } from "../../src/stream/publisher.ts";
import { freshStreamName, NATS_URL, natsConnection } from "../support/nats.ts";
import { freePort, runHeadroom } from "../support/server.ts";
import { freshPostgresDatabase, postgresAvailability } from "../support/stores.ts";

/**
 * The 100,000 in CI (about 75 s on an idle 2-core machine); 20,000 in a local run, where
 * the whole suite shares the cores. HEADROOM_STREAM_TEST_EVENTS sets it either way.
 */
const EVENTS = Number(process.env.HEADROOM_STREAM_TEST_EVENTS ?? (process.env.CI ? 100_000 : 20_000));
const PARTITIONS = 16;
const END = Date.UTC(2026, 5, 1);

const nats = await natsConnection();
const pg = await postgresAvailability();
const skip = nats.nc === null || !pg.ok;
if (nats.nc === null) console.warn(`SKIPPED: stream workers (${nats.reason})`);
if (!pg.ok) console.warn(`SKIPPED: stream workers (${pg.reason})`);

interface Effects {
  events: string[];
  /** Drawdowns refused: a redelivered one must stay refused, not be judged again later. */
  refused: string[];
  /** Per account, its decisions in commit (ledger) order: triggering event, action, new limit. */
  decisions: Map<string, string[]>;
  lines: Map<string, string>;
}

async function effects(headroom: Headroom): Promise<Effects> {
  const db = headroom.store.db;
  const events = (await db.selectFrom("events").select(["account_id", "event_id"]).execute())
    .map((e) => `${e.account_id}/${e.event_id}`)
    .sort();
  const refused = (await db.selectFrom("refused_events").select(["account_id", "event_id"]).execute())
    .map((e) => `${e.account_id}/${e.event_id}`)
    .sort();
  const decisions = new Map<string, string[]>();
  const rows = await db
    .selectFrom("decisions")
    .innerJoin("ledger", "ledger.ref_id", "decisions.id")
    .select(["decisions.account_id", "decisions.idempotency_key", "decisions.action", "decisions.to_limit"])
    .where("ledger.kind", "=", "decision")
    .orderBy("ledger.seq")
    .execute();
  for (const r of rows) {
    const list = decisions.get(r.account_id) ?? [];
    list.push(`${r.idempotency_key} ${r.action} ${r.to_limit}`);
    decisions.set(r.account_id, list);
  }
  const lines = new Map(
    (
      await db
        .selectFrom("credit_lines")
        .select(["account_id", "status", "limit_amount", "balance"])
        .execute()
    ).map((l) => [l.account_id, `${l.status} ${l.limit_amount} ${l.balance}`]),
  );
  return { events, refused, decisions, lines };
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function readiness(port: number): Promise<{ checks: Record<string, string> } | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return response.ok ? ((await response.json()) as { checks: Record<string, string> }) : null;
  } catch {
    return null;
  }
}

describe.skipIf(skip)("stream workers on NATS JetStream and PostgreSQL", () => {
  const nc = nats.nc as NatsConnection;
  const stream = freshStreamName();
  const workers: ChildProcess[] = [];
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let headroom: Headroom;

  beforeAll(async () => {
    database = await freshPostgresDatabase();
    // Migrated before the workers start, so they do not race to create the schema.
    headroom = await openHeadroom({ databaseUrl: database.url });
  });

  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await headroom?.close();
    await database?.drop();
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.drain();
  });

  it(`applies ${EVENTS} events exactly once and in account order while a worker is SIGKILLed midway`, async () => {
    const events = generatedEvents(EVENTS, 5, END);
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, stream);
    const published = await publishEvents(jetstream(nc), { stream, partitions: PARTITIONS }, events);
    expect(published.published).toBe(EVENTS);

    const ports = [await freePort(), await freePort()];
    const start = (port: number, partitions: string) => {
      const child = runHeadroom([
        "--database",
        database.url,
        "worker",
        "--nats",
        NATS_URL,
        "--stream",
        stream,
        "--partition-count",
        String(PARTITIONS),
        "--partitions",
        partitions,
        "--takeover-after",
        "1500",
        "--ops-port",
        String(port),
      ]);
      child.stderr?.on("data", (c) => process.stderr.write(`[worker ${partitions}] ${c}`));
      workers.push(child);
      return child;
    };
    const doomed = start(ports[0] as number, "0-7");
    start(ports[1] as number, "8-15");

    const stored = async () =>
      Number(
        (
          await headroom.store.db
            .selectFrom("events")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    await until("a third of the events to commit", 200_000, async () => (await stored()) >= EVENTS / 3);
    doomed.kill("SIGKILL");
    const atKill = await stored();
    expect(atKill).toBeLessThan(EVENTS * 0.9);
    const survivor = ports[1] as number;
    await until("the survivor to take every partition", 30_000, async () => {
      const ready = await readiness(survivor);
      return ready?.checks.partitions?.split(",").length === PARTITIONS;
    });
    await until("every partition to be acknowledged", 400_000, async () => {
      for (let p = 0; p < PARTITIONS; p++) if ((await partitionLag(jsm, stream, p)) !== 0) return false;
      return true;
    });

    // The same events through the same service in one process, as the reference.
    const reference = await openHeadroom({ databaseUrl: "sqlite::memory:" });
    try {
      for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) {
        await ingestEvents(reference, events.slice(i, i + MAX_EVENTS_PER_BATCH));
      }
      const expected = await effects(reference);
      const actual = await effects(headroom);
      // The workload has substance: most events accepted, many of them decided on.
      expect(expected.events.length).toBeGreaterThan(EVENTS * 0.9);
      expect([...expected.decisions.values()].flat().length).toBeGreaterThan(EVENTS / 20);
      // The events each side took and the other did not: empty both ways, and named when not.
      const took = { workers: new Set(actual.events), reference: new Set(expected.events) };
      expect({
        onlyWorkers: actual.events.filter((e) => !took.reference.has(e)),
        onlyReference: expected.events.filter((e) => !took.workers.has(e)),
      }).toEqual({ onlyWorkers: [], onlyReference: [] });
      expect(actual.refused).toEqual(expected.refused);
      expect(actual.lines).toEqual(expected.lines);
      expect(actual.decisions).toEqual(expected.decisions);
    } finally {
      await reference.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${survivor}/metrics`)).text();
    const redelivered = /headroom_events_total\{status="duplicate"\} (\d+)/.exec(metrics)?.[1];
    console.log(
      `stream workers: ${atKill} events committed when the worker was killed; the survivor saw ${redelivered} redelivered events as duplicates`,
    );
    const audit = await verifyLedger(headroom.store);
    expect(audit.problems).toEqual([]);
  }, 600_000);
});
