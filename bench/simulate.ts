/**
 * Simulation over a synthetic book: a candidate that freezes from 20 days past due instead of 30,
 * decided beside the policy in force for every open line, report stored. Read only.
 *
 *   npx tsx bench/simulate.ts [--accounts 1000000] [--store sqlite|postgres] [--drifted 0.05]
 *
 * Prints accounts/s, the peer (a bare scan of the book in the same run) and peak RSS; asserts nothing.
 */
import type { Policy } from "../src/engine/policy.ts";
import { activeEngine } from "../src/services/engineConfig.ts";
import { simulate, storeReport } from "../src/services/simulation.ts";
import { newSimulationId } from "../src/services/simulationRun.ts";
import { BENCH_NOW, cpuSeconds, onSeededBook, perSecond } from "./support/syntheticBook.ts";

await onSeededBook("sim", async ({ headroom, scan }) => {
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
  const cpuAtStart = cpuSeconds();
  const report = await simulate(headroom.store, headroom.engine, activeEngine(candidate), {
    asOf: BENCH_NOW,
  });
  const decided = (performance.now() - started) / 1000;
  const id = newSimulationId(candidate.version, report.candidate.model, BENCH_NOW);
  await storeReport(headroom.store, report, "bench", BENCH_NOW, id);
  const total = (performance.now() - started) / 1000;
  console.log(
    `simulate: ${report.accounts.toLocaleString("en-US")} lines in ${total.toFixed(1)} s (${(cpuSeconds() - cpuAtStart).toFixed(1)} s of CPU; ${decided.toFixed(1)} s deciding, ${(total - decided).toFixed(1)} s storing the report) = ${perSecond(report.accounts, total)} accounts/s; ${report.hits.length} hit`,
  );
  console.log(
    `peer, bare scan of the book: ${perSecond(scan, 1)} lines/s; simulation runs at ${((report.accounts / total / scan) * 100).toFixed(0)}% of it`,
  );
});
