/**
 * What exposure budgets cost ingest: the same workload (demo behaviour, batches of 1,000 events,
 * in process) into a fresh SQLite store without budgets and with budgets on every scope the lines
 * count in (total, region, segment, product; committed and drawn credit, caps high enough that
 * nothing is refused), and on PostgreSQL when reachable. Prints events/s and the ratio; asserts nothing.
 *
 *   npx tsx bench/budgets.ts [--borrowers 3000] [--months 6]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type CreditEvent, MAX_EVENTS_PER_BATCH, REGIONS, SEGMENTS } from "../src/engine/events.ts";
import { seededRandom } from "../src/engine/random.ts";
import { MS_PER_DAY } from "../src/engine/time.ts";
import { type BudgetSpec, setBudget } from "../src/services/budgets.ts";
import { borrowerEvents } from "../src/services/demo/behaviour.ts";
import { loadRealProfiles, syntheticProfile } from "../src/services/demo/borrowerProfiles.ts";
import { openHeadroom } from "../src/services/headroom.ts";
import { ingestEvents } from "../src/services/ingest.ts";
import { freshPostgresDatabase, postgresAvailability } from "../test/support/stores.ts";

const { values } = parseArgs({
  options: { borrowers: { type: "string", default: "3000" }, months: { type: "string", default: "6" } },
});
const borrowers = Number(values.borrowers);
const months = Number(values.months);
const END = Date.UTC(2026, 0, 1);

async function workload(): Promise<CreditEvent[][]> {
  const random = seededRandom(7);
  const real = await loadRealProfiles(borrowers * 4);
  const events: CreditEvent[] = [];
  for (let i = 0; i < borrowers; i++) {
    const profile =
      real !== null ? (real[random.int(real.length)] ?? syntheticProfile(random)) : syntheticProfile(random);
    events.push(...borrowerEvents(i, profile, random, END - months * 30 * MS_PER_DAY, months, END));
  }
  events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const batches: CreditEvent[][] = [];
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH)
    batches.push(events.slice(i, i + MAX_EVENTS_PER_BATCH));
  return batches;
}

const HIGH = 1e14;
const everyScope = (product: string): Omit<BudgetSpec, "actor" | "reason">[] =>
  (["limit", "balance"] as const).flatMap((measure) => [
    { scope: "total" as const, measure, cap: HIGH },
    { scope: "product" as const, value: product, measure, cap: HIGH },
    ...REGIONS.map((value) => ({ scope: "region" as const, value, measure, cap: HIGH })),
    ...SEGMENTS.map((value) => ({ scope: "segment" as const, value, measure, cap: HIGH })),
  ]);

async function run(url: string, withBudgets: boolean, batches: CreditEvent[][]): Promise<number> {
  const headroom = await openHeadroom({ databaseUrl: url, clock: () => END });
  try {
    if (withBudgets)
      for (const spec of everyScope(headroom.engine.pricing.product))
        await setBudget(headroom, { ...spec, actor: "bench", reason: "bench" });
    let events = 0;
    const started = performance.now();
    for (const batch of batches) {
      const r = await ingestEvents(headroom, batch);
      events += r.accepted + r.rejected;
    }
    return events / ((performance.now() - started) / 1000);
  } finally {
    await headroom.close();
  }
}

const batches = await workload();
console.log(`workload: ${borrowers} borrowers, ${batches.flat().length} events in ${batches.length} batches`);
const pg = await postgresAvailability();
const stores: { name: string; url: () => Promise<{ url: string; done: () => Promise<void> }> }[] = [
  {
    name: "sqlite",
    url: async () => {
      const dir = mkdtempSync(join(tmpdir(), "headroom-bench-budgets-"));
      return { url: `sqlite:${join(dir, "h.db")}`, done: async () => rmSync(dir, { recursive: true }) };
    },
  },
];
if (pg.ok)
  stores.push({
    name: "postgres",
    url: async () => {
      const db = await freshPostgresDatabase();
      return { url: db.url, done: db.drop };
    },
  });
else console.log(`postgres: skipped (${pg.reason})`);

for (const store of stores) {
  const rates: number[] = [];
  // Alternate runs so drift in machine load hits both sides alike.
  for (const withBudgets of [false, true, false, true]) {
    const target = await store.url();
    try {
      rates[withBudgets ? 1 : 0] = Math.max(
        rates[withBudgets ? 1 : 0] ?? 0,
        await run(target.url, withBudgets, batches),
      );
    } finally {
      await target.done();
    }
  }
  const [without = 0, withB = 0] = rates;
  console.log(
    `${store.name}: without budgets ${Math.round(without)} events/s, with ${everyScope("p").length} budgets ${Math.round(withB)} events/s (x${(withB / without).toFixed(2)}, best of 2 each)`,
  );
}
