/**
 * End-to-end ingest benchmark: HTTP batches of 1,000 events -> store -> features -> decisions
 * when triggered -> ledger -> outbox, against a real `headroom serve` child process, on SQLite and
 * (when reachable) PostgreSQL. Prints figures; asserts nothing about time.
 *
 *   npx tsx bench/ingest.ts [--borrowers 5000] [--months 6] [--concurrency 2,8,16] [--warmup 1000]
 *     [--only sqlite|postgres]
 *   (each concurrency runs against a fresh database; concurrent batches commit together. The server
 *   first takes `--warmup` other borrowers' events, printed as "cold": a server just started spends
 *   the second core compiling its hot paths, one that has been running does not; 0 skips it)
 *   npx tsx bench/ingest.ts --url http://127.0.0.1:8080 --key hrk_...   (an already running, empty Headroom;
 *   the key needs the integration or admin role; default $HEADROOM_API_KEY)
 */
import { parseArgs } from "node:util";
import { MS_PER_DAY } from "../src/engine/time.ts";
import { createKeyWithCli, freePort, runHeadroom, waitForHealthy } from "../test/support/server.ts";
import { onEachStore } from "./support/benchStores.ts";
import { cpuSeconds } from "./support/cpuTime.ts";
import { ingestWorkload, MEASURED_BOOK, WARMUP_BOOK, type WorkloadBook } from "./support/ingestWorkload.ts";

const { values } = parseArgs({
  options: {
    borrowers: { type: "string", default: "5000" },
    months: { type: "string", default: "6" },
    concurrency: { type: "string", default: "2,8,16" },
    warmup: { type: "string", default: "1000" },
    only: { type: "string" },
    url: { type: "string" },
    key: { type: "string", default: process.env.HEADROOM_API_KEY ?? "" },
  },
});
const borrowers = Number(values.borrowers);
const months = Number(values.months);
const warmupBorrowers = Number(values.warmup);
const concurrencies = values.concurrency.split(",").map(Number);
if (!Number.isSafeInteger(warmupBorrowers) || warmupBorrowers < 0)
  throw new Error("--warmup must be a whole number of borrowers (0: none)");

async function batches(count: number, book: WorkloadBook): Promise<string[]> {
  // Ends at the start of yesterday (UTC): recent enough that notice periods run past the server's
  // clock, and the same workload for every run of the day, so runs compare.
  const batches = await ingestWorkload(
    count,
    months,
    (Math.floor(Date.now() / MS_PER_DAY) - 1) * MS_PER_DAY,
    book,
  );
  return batches.map((events) => JSON.stringify({ events }));
}

async function drive(
  name: string,
  base: string,
  key: string,
  bodies: string[],
  concurrency: number,
  serverPid?: number,
): Promise<void> {
  const cpuAtStart = cpuSeconds(serverPid);
  const mainAtStart = cpuSeconds(serverPid, serverPid);
  // Batches are sent in time order; `concurrency` requests are in flight at once, as a busy producer would.
  let next = 0;
  let events = 0;
  let decisions = 0;
  const latencies: number[] = [];
  const clientAtStart = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const t = performance.now();
      const response = await fetch(`${base}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body,
      });
      const result = (await response.json()) as { accepted: number; rejected: number; decisions: number };
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${JSON.stringify(result)}`);
      latencies.push(performance.now() - t);
      events += result.accepted + result.rejected;
      decisions += result.decisions;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientAtStart);
  const cpuAtEnd = cpuSeconds(serverPid);
  const mainAtEnd = cpuSeconds(serverPid, serverPid);
  // The main thread bounds ingest (it is the SQLite writer); the rest is mostly V8's helper
  // threads (garbage collection, compiling) and the WAL checkpointer.
  const perEvent = (from: number | null, to: number | null) =>
    from === null || to === null ? "?" : (((to - from) / events) * 1e6).toFixed(0);
  const serverCpu =
    cpuAtStart === null || cpuAtEnd === null
      ? ""
      : `; server CPU ${perEvent(cpuAtStart, cpuAtEnd)} µs/event (main thread ${perEvent(mainAtStart, mainAtEnd)}), busy ${(((cpuAtEnd - cpuAtStart) / seconds) * 100).toFixed(0)}%; client CPU ${((client.user + client.system) / events).toFixed(0)} µs/event`;
  latencies.sort((a, b) => a - b);
  const p = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(1);
  console.log(
    `${`${name} x${concurrency}`.padEnd(16)} ${Math.round(events / seconds)
      .toLocaleString("en-US")
      .padStart(8)} events/s  ` +
      `(${events} events, ${decisions} decisions, ${seconds.toFixed(1)} s; batch latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms${serverCpu})`,
  );
}

async function run(name: string, database: string, bodies: string[], concurrency: number): Promise<void> {
  const key = await createKeyWithCli(database, "integration", "bench");
  const port = await freePort();
  const server = runHeadroom(["--database", database, "serve", "--port", String(port), "--no-background"]);
  try {
    await waitForHealthy(port, server);
    const base = `http://127.0.0.1:${port}`;
    // A server that has been running has compiled its hot paths; one just started compiles them
    // on the second core, which the client also needs. Both figures are printed.
    if (warmup.length > 0) await drive(`${name} cold`, base, key, warmup, concurrency, server.pid);
    await drive(name, base, key, bodies, concurrency, server.pid);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.on("exit", resolve));
  }
}

const bodies = await batches(borrowers, MEASURED_BOOK);
const warmup = warmupBorrowers > 0 ? await batches(warmupBorrowers, WARMUP_BOOK) : [];
for (const concurrency of concurrencies) {
  if (values.url !== undefined) {
    if (warmup.length > 0) await drive("external cold", values.url, values.key, warmup, concurrency);
    await drive("external", values.url, values.key, bodies, concurrency);
  } else await onEachStore(values.only, (name, database) => run(name, database, bodies, concurrency));
}
