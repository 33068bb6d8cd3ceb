/**
 * Stream throughput: the same events through 1, 2 and 4 `headroom worker` processes on one
 * PostgreSQL database, each run on a fresh database and a fresh stream. The events are published
 * first; the workers then split the 16 partitions, and the clock runs from the first commit until
 * every partition is acknowledged. Prints events stored per second (rejected events, such as
 * refused drawdowns, are consumed but not stored) and the ratio to the first; asserts nothing.
 *
 *   npx tsx bench/stream.ts [--events 30000] [--workers 1,2,4]
 */
import type { ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type Headroom, openHeadroom } from "../src/services/headroom.ts";
import { ensureEventStream, partitionLag } from "../src/stream/jetstream.ts";
import { generatedEvents, publishEvents } from "../src/stream/publisher.ts";
import { freshStreamName, NATS_URL, natsConnection } from "../test/support/nats.ts";
import { runHeadroom } from "../test/support/server.ts";
import { freshPostgresDatabase, postgresAvailability } from "../test/support/stores.ts";

const PARTITIONS = 16;
const { values } = parseArgs({
  options: { events: { type: "string", default: "30000" }, workers: { type: "string", default: "1,2,4" } },
});
const count = Number(values.events);
const workerCounts = values.workers.split(",").map(Number);

const nats = await natsConnection();
const pg = await postgresAvailability();
if (nats.nc === null || !pg.ok) {
  console.log(
    `SKIPPED: bench/stream needs NATS and PostgreSQL (${nats.nc === null ? nats.reason : ""} ${pg.ok ? "" : pg.reason})`,
  );
  process.exit(0);
}
const nc = nats.nc;
const jsm = await jetstreamManager(nc);
const events = generatedEvents(count, 3, Date.UTC(2026, 5, 1));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stored(headroom: Headroom): Promise<number> {
  const row = await headroom.store.db
    .selectFrom("events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function caughtUp(stream: string): Promise<boolean> {
  for (let p = 0; p < PARTITIONS; p++) if ((await partitionLag(jsm, stream, p)) !== 0) return false;
  return true;
}

async function run(workers: number): Promise<number> {
  const database = await freshPostgresDatabase();
  // Migrated here, so the workers start together without racing to create the schema.
  const headroom = await openHeadroom({ databaseUrl: database.url });
  const stream = freshStreamName();
  await ensureEventStream(jsm, stream);
  await publishEvents(jetstream(nc), { stream, partitions: PARTITIONS }, events);
  const children: ChildProcess[] = [];
  try {
    for (let w = 0; w < workers; w++) {
      const from = Math.floor((w * PARTITIONS) / workers);
      const to = Math.floor(((w + 1) * PARTITIONS) / workers) - 1;
      const args = ["--database", database.url, "worker", "--nats", NATS_URL, "--stream", stream];
      children.push(runHeadroom([...args, "--partitions", `${from}-${to}`, "--takeover-after", "600000"]));
    }
    // The clock starts at the first commit, not at process start (tsx start-up is not throughput).
    await waitFor(async () => (await stored(headroom)) > 0, 60_000, "the first commit");
    const started = performance.now();
    const before = await stored(headroom);
    await waitFor(() => caughtUp(stream), 600_000, "every partition to be acknowledged");
    const seconds = (performance.now() - started) / 1000;
    const applied = (await stored(headroom)) - before;
    const rate = applied / seconds;
    console.log(
      `${workers} worker(s): ${applied} events stored in ${seconds.toFixed(1)} s = ${Math.round(rate)} events/s`,
    );
    return rate;
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((resolve) => c.once("exit", resolve))));
    await headroom.close();
    await jsm.streams.delete(stream);
    await database.drop();
  }
}

console.log(
  `bench/stream: ${count} events, ${PARTITIONS} partitions, PostgreSQL + NATS JetStream on this machine`,
);
const rates = new Map<number, number>();
for (const workers of workerCounts) rates.set(workers, await run(workers));
const base = rates.get(workerCounts[0] as number) as number;
for (const [workers, rate] of rates) {
  console.log(`  ${workers} worker(s): ${Math.round(rate)} events/s, ${(rate / base).toFixed(2)}x the first`);
}
await nc.drain();
