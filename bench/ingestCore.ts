/**
 * The ingest core without HTTP: the bench/ingest workload through ingestBatches in this process,
 * four batches to a transaction (as 8 requests in flight commit, on average), on SQLite and (when
 * reachable) PostgreSQL. Prints events/s and the main thread's CPU per event: on a 2-core machine
 * the main thread is what bounds ingest, so this is the figure to judge a change to the decision
 * loop by, in runs interleaved with the code before it (a virtual machine's speed drifts by a third
 * from one run to the next). Asserts nothing about time.
 *
 *   npx tsx bench/ingestCore.ts [--borrowers 3000] [--months 6] [--group 4] [--warmup 1000]
 *     [--only sqlite|postgres]
 *   (`--warmup` other borrowers' events go through first, untimed, as in bench/ingest; 0 skips them)
 */
import { parseArgs } from "node:util";
import { MS_PER_DAY } from "../src/engine/time.ts";
import { openHeadroom } from "../src/services/headroom.ts";
import { ingestBatches } from "../src/services/ingest.ts";
import { onEachStore } from "./support/benchStores.ts";
import { cpuSeconds } from "./support/cpuTime.ts";
import { ingestWorkload, WARMUP_BOOK } from "./support/ingestWorkload.ts";

const { values } = parseArgs({
  options: {
    borrowers: { type: "string", default: "3000" },
    months: { type: "string", default: "6" },
    group: { type: "string", default: "4" },
    warmup: { type: "string", default: "1000" },
    only: { type: "string" },
  },
});
const group = Number(values.group);
if (!Number.isSafeInteger(group) || group < 1 || group > 8) throw new Error("--group must be 1 to 8 batches");
const warmup = Number(values.warmup);
if (!Number.isSafeInteger(warmup) || warmup < 0)
  throw new Error("--warmup must be a whole number of borrowers (0: none)");

const end = Date.UTC(2026, 10, 1);
const batches = await ingestWorkload(Number(values.borrowers), Number(values.months), end);
const warmupBatches = warmup > 0 ? await ingestWorkload(warmup, Number(values.months), end, WARMUP_BOOK) : [];

async function run(name: string, databaseUrl: string): Promise<void> {
  const headroom = await openHeadroom({ databaseUrl, clock: () => end + MS_PER_DAY });
  try {
    for (let i = 0; i < warmupBatches.length; i += group)
      await ingestBatches(headroom, warmupBatches.slice(i, i + group));
    const mainAtStart = cpuSeconds(process.pid, process.pid);
    const processAtStart = process.cpuUsage();
    const started = performance.now();
    let events = 0;
    let decisions = 0;
    for (let i = 0; i < batches.length; i += group) {
      for (const result of await ingestBatches(headroom, batches.slice(i, i + group))) {
        events += result.accepted + result.rejected;
        decisions += result.decisions;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const mainAtEnd = cpuSeconds(process.pid, process.pid);
    const used = process.cpuUsage(processAtStart);
    const main =
      mainAtStart === null || mainAtEnd === null
        ? ""
        : `main thread ${(((mainAtEnd - mainAtStart) / events) * 1e6).toFixed(1)} µs/event, `;
    console.log(
      `${name.padEnd(9)} ${Math.round(events / seconds)
        .toLocaleString("en-US")
        .padStart(8)} events/s  (${events} events, ${decisions} decisions, ${seconds.toFixed(1)} s; ` +
        `${main}process ${((used.user + used.system) / events).toFixed(1)} µs/event)`,
    );
  } finally {
    await headroom.close();
  }
}

await onEachStore(values.only, run);
