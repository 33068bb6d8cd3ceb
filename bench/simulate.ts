/**
 * Simulation over a synthetic book: a candidate that freezes from 20 days past due instead of 30,
 * decided beside the policy in force for every open line, report stored. Read only.
 *
 *   npx tsx bench/simulate.ts [--accounts 1000000] [--store sqlite|postgres] [--drifted 0.05]
 *
 * Prints accounts/s, the peer (a bare scan of the book in the same run) and peak RSS; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Policy } from "../src/engine/policy.ts";
import { activeEngine } from "../src/services/engineConfig.ts";
import { simulate, storeReport } from "../src/services/simulation.ts";
import { newSimulationId } from "../src/services/simulationRun.ts";
import { benchArgs, freshStore, peakRssMiB, perSecond, scanBook, seedBook } from "./support/syntheticBook.ts";

const { accounts, store, drifted } = benchArgs();
const NOW = Date.UTC(2026, 10, 1);
const dir = mkdtempSync(join(tmpdir(), "headroom-bench-sim-"));
const { headroom, dispose } = await freshStore(store, dir, NOW);
try {
  const seeded = await seedBook(headroom, accounts, NOW, drifted);
  console.log(
    `seeded ${accounts.toLocaleString("en-US")} lines on ${store} in ${seeded.toFixed(1)} s (${drifted * 100}% drifted since the last review)`,
  );
  const scan = await scanBook(headroom);
  const policy = headroom.engine.policy;
  const candidate: Policy = {
    ...policy,
    version: "freeze-at-20",
    rules: policy.rules.map((r) =>
      r.id === "delinquency-freeze"
        ? { ...r, when: r.when.map((c) => (c.fact === "dpd" ? { ...c, value: 20 } : c)) }
        : r,
    ),
  };
  const started = performance.now();
  const report = await simulate(headroom.store, headroom.engine, activeEngine(candidate), { asOf: NOW });
  const decided = (performance.now() - started) / 1000;
  const id = newSimulationId(candidate.version, report.candidate.model, NOW);
  await storeReport(headroom.store, report, "bench", NOW, id);
  const total = (performance.now() - started) / 1000;
  console.log(
    `simulate: ${report.accounts.toLocaleString("en-US")} lines in ${total.toFixed(1)} s (${decided.toFixed(1)} s deciding, ${(total - decided).toFixed(1)} s storing the report) = ${perSecond(report.accounts, total)} accounts/s; ${report.hits.length} hit`,
  );
  console.log(
    `peer, bare scan of the book: ${perSecond(scan, 1)} lines/s; simulation runs at ${((report.accounts / total / scan) * 100).toFixed(0)}% of it`,
  );
  console.log(
    `peak RSS ${peakRssMiB().toFixed(0)} MiB (figures measured on a shared 2-core machine, under load)`,
  );
} finally {
  await dispose();
  rmSync(dir, { recursive: true, force: true });
}
