import { writeFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { activeEngine } from "../services/engineConfig.ts";
import { openHeadroom } from "../services/headroom.ts";
import { readPolicyFile } from "../services/policyFiles.ts";
import { hitsCsv, simulate, storeReport } from "../services/simulation.ts";

const yuan = (fen: number) => (fen / 100).toLocaleString("en-US", { maximumFractionDigits: 0 });

/** `headroom simulate`: a candidate policy over the current book, without touching it. */
export function addSimulateCommand(program: Command, global: () => { database?: string }): void {
  program
    .command("simulate")
    .description("decide the whole book under a candidate policy beside the active one; changes nothing")
    .requiredOption(
      "--policy <file>",
      "candidate policy document (YAML, as `headroom policy check` reads it)",
    )
    .option("--as-of <date>", "decide as of this ISO date (default: now)")
    .option("--csv <file>", "write the who-is-hit list here")
    .option("--by <name>", "who ran it", process.env.USER ?? "analyst")
    .action(async (opts) => {
      const candidate = readPolicyFile(opts.policy).policy;
      const headroom = await openHeadroom({ databaseUrl: global().database });
      try {
        const asOf = opts.asOf === undefined ? headroom.clock() : Date.parse(opts.asOf);
        if (Number.isNaN(asOf)) throw new Error(`--as-of must be an ISO date, got "${opts.asOf}"`);
        const total = await headroom.store.db
          .selectFrom("credit_lines")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("status", "!=", "CLOSED")
          .executeTakeFirstOrThrow();
        const bar = new SingleBar({
          format: "simulate [{bar}] {percentage}% | {value}/{total}",
          stream: process.stderr,
          noTTYOutput: true,
        });
        bar.start(Number(total.n), 0);
        const report = await simulate(
          headroom.store,
          headroom.engine,
          activeEngine(candidate),
          asOf,
          (done) => bar.update(done),
        );
        bar.stop();
        const id = await storeReport(headroom.store, report, asOf, opts.by, headroom.clock());
        const out = process.stdout;
        out.write(
          `simulation ${id}: ${report.candidate.policy} against ${report.current.policy} on ${report.accounts} open lines\n`,
        );
        for (const [action, n] of Object.entries(report.actions))
          out.write(`  ${action.padEnd(10)} ${String(n.current).padStart(8)} -> ${n.candidate}\n`);
        const t = report.exposure.total;
        out.write(`exposure: ${yuan(t.exposureCurrent)} yuan -> ${yuan(t.exposureCandidate)} yuan\n`);
        out.write(
          `expected loss: ${yuan(report.expectedLoss.current)} yuan -> ${yuan(report.expectedLoss.candidate)} yuan\n`,
        );
        for (const [segment, a] of Object.entries(report.adverseImpact)) {
          out.write(
            `  adverse rate ${segment.padEnd(14)} ${(a.adverseRate * 100).toFixed(1)}% (x${a.ratioToLowest.toFixed(2)} the least-hit segment)\n`,
          );
        }
        out.write(
          `who is hit: ${report.hits.length} accounts${report.hitsTruncated ? " (list truncated)" : ""}\n`,
        );
        if (opts.csv !== undefined) {
          writeFileSync(opts.csv, hitsCsv(report));
          out.write(`wrote ${opts.csv}\n`);
        }
      } finally {
        await headroom.close();
      }
    });
}
