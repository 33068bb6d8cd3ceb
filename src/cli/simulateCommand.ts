import { writeFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { ClassMeasureSettings, WhatIfMeasures } from "../services/classMeasures.ts";
import { openHeadroom } from "../services/headroom.ts";
import { factorProblem, MAX_FACTOR, MIN_FACTOR, regionProblem } from "../services/riskSettings.ts";
import { filterHits, hitsCsv, type SimulationReport } from "../services/simulation.ts";
import { runSimulation } from "../services/simulationRun.ts";

const yuan = (fen: number) => (fen / 100).toLocaleString("en-US", { maximumFractionDigits: 0 });

/** Parses an ISO date for an option, or says which option is wrong. */
export function isoOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Error(`${name} must be an ISO date, got "${value}"`);
  return at;
}

/** A progress bar on stderr over the open lines of the book. */
export async function progressBar(
  headroom: Awaited<ReturnType<typeof openHeadroom>>,
  label: string,
): Promise<SingleBar> {
  const total = await headroom.store.db
    .selectFrom("credit_lines")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "!=", "CLOSED")
    .executeTakeFirstOrThrow();
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total}`,
    stream: process.stderr,
    noTTYOutput: true,
  });
  bar.start(Number(total.n), 0);
  return bar;
}

/** `headroom simulate`: a candidate policy and/or model over the book, or the history as of a date. */
export function addSimulateCommand(program: Command, global: () => { database?: string }): Command {
  return (
    program
      .command("simulate")
      .description(
        "decide the book (or, with --as-of, the history replayed as of that date) under a candidate policy and/or model beside the ones in force; changes nothing",
      )
      .option("--policy <version|file>", "candidate policy: a stored version or a policy YAML file")
      .option("--model <version>", "candidate model version from the registry")
      .option(
        "--as-of <date>",
        "replay each account's history as of this ISO date and judge by what followed",
      )
      .option(
        "--stress <multiplier>",
        `what-if: the candidate runs as if this portfolio stress multiplier were set (${MIN_FACTOR} to ${MAX_FACTOR})`,
      )
      .option(
        "--region-factor <region=factor...>",
        `what-if: the candidate runs as if these region risk factors were set, e.g. west=0.8 (${MIN_FACTOR} to ${MAX_FACTOR})`,
      )
      .option("--csv <file>", "write the who-is-hit list here")
      // Named apart from `simulate stress --region`, which commander would otherwise give to this command.
      .option("--only-region <region>", "the CSV lists only this region")
      .option("--only-segment <segment>", "the CSV lists only this segment")
      .option("--only-action <action>", "the CSV lists only this candidate action")
      .option("--by <name>", "who ran it", process.env.USER ?? "analyst")
      .action(async (opts) => {
        const whatIf = whatIfOptions(opts.stress, opts.regionFactor);
        if (opts.policy === undefined && opts.model === undefined && whatIf === undefined)
          throw new Error(
            "name a candidate: --policy <version|file>, --model <version> and/or what-if measures (--stress, --region-factor)",
          );
        const asOf = isoOption("--as-of", opts.asOf);
        const headroom = await openHeadroom({ databaseUrl: global().database });
        try {
          const bar = await progressBar(headroom, "simulate");
          const { id, report } = await runSimulation(
            headroom,
            { policy: opts.policy, model: opts.model, asOf, whatIf, by: opts.by },
            { allowFiles: true, onProgress: (done) => bar.update(done) },
          );
          bar.stop();
          printReport(id, report);
          if (opts.csv !== undefined) {
            const hits = filterHits(report.hits, {
              region: opts.onlyRegion,
              segment: opts.onlySegment,
              action: opts.onlyAction,
            });
            writeFileSync(opts.csv, hitsCsv(hits));
            process.stdout.write(`wrote ${hits.length} accounts to ${opts.csv}\n`);
          }
        } finally {
          await headroom.close();
        }
      })
  );
}

/** Parses a factor for an option, or says plainly what is wrong with it. */
function factorOption(name: string, value: string): number {
  const factor = Number(value);
  const problem =
    value.trim() === "" || Number.isNaN(factor) ? `must be a number, got "${value}"` : factorProblem(factor);
  if (problem !== null) throw new Error(`${name} ${problem}`);
  return factor;
}

/** The what-if measures of --stress and --region-factor REGION=FACTOR, checked as a setting would be. */
export function whatIfOptions(
  stress: string | undefined,
  regionFactors: readonly string[] | undefined,
): WhatIfMeasures | undefined {
  if (stress === undefined && (regionFactors === undefined || regionFactors.length === 0)) return undefined;
  const whatIf: WhatIfMeasures = {};
  if (stress !== undefined) whatIf.stress = factorOption("--stress", stress);
  for (const pair of regionFactors ?? []) {
    const [region, factor, ...rest] = pair.split("=");
    if (region === undefined || factor === undefined || rest.length > 0)
      throw new Error(`--region-factor takes REGION=FACTOR, e.g. west=0.8; got "${pair}"`);
    const badRegion = regionProblem(region);
    if (badRegion !== null) throw new Error(`--region-factor region ${badRegion}`);
    whatIf.regions = { ...whatIf.regions, [region]: factorOption(`--region-factor ${region}`, factor) };
  }
  return whatIf;
}

/** The measures a side decided under, e.g. "stress 0.9, west 0.8" ("none" when none is set). */
export function measuresText(m: ClassMeasureSettings): string {
  const parts = [
    ...(m.stress === 1 ? [] : [`stress ${m.stress}`]),
    ...Object.entries(m.regions)
      .filter(([, f]) => f !== 1)
      .map(([region, f]) => `${region} ${f}`),
  ];
  return parts.length === 0 ? "none" : parts.join(", ");
}

function printReport(id: string, report: SimulationReport): void {
  const out = process.stdout;
  const when =
    report.mode === "replay"
      ? `the history replayed as of ${new Date(report.asOf).toISOString()}`
      : "the book";
  out.write(
    `simulation ${id}: ${report.candidate.policy}/${report.candidate.model} against ${report.current.policy}/${report.current.model} on ${report.accounts} open lines of ${when}\n`,
  );
  out.write(
    `class-wide measures: current ${measuresText(report.measures.current)}; candidate ${measuresText(report.measures.candidate)}${report.whatIf === null ? "" : " (what-if)"}\n`,
  );
  out.write(
    `decided by a class-wide measure: current ${report.classWide.current}, candidate ${report.classWide.candidate}\n`,
  );
  for (const [action, n] of Object.entries(report.actions))
    out.write(`  ${action.padEnd(10)} ${String(n.current).padStart(8)} -> ${n.candidate}\n`);
  const t = report.exposure.total;
  out.write(`exposure: ${yuan(t.exposureCurrent)} yuan -> ${yuan(t.exposureCandidate)} yuan\n`);
  for (const [name, groups] of [
    ["region", report.exposure.byRegion],
    ["segment", report.exposure.bySegment],
    ["tier", report.exposure.byTier],
  ] as const) {
    for (const [key, g] of Object.entries(groups))
      out.write(
        `  ${name} ${key.padEnd(14)} ${yuan(g.exposureCurrent)} -> ${yuan(g.exposureCandidate)} yuan\n`,
      );
  }
  out.write(
    `expected loss: ${yuan(report.expectedLoss.current)} yuan -> ${yuan(report.expectedLoss.candidate)} yuan\n`,
  );
  for (const [segment, a] of Object.entries(report.adverseImpact)) {
    out.write(
      `  adverse rate ${segment.padEnd(14)} ${(a.adverseRate * 100).toFixed(1)}% (x${a.ratioToLowest.toFixed(2)} the least-hit segment)\n`,
    );
  }
  out.write(`score PSI (candidate against current): ${report.scorePsi.toFixed(4)}\n`);
  const o = report.outcomes;
  if (o !== null) {
    out.write(
      `outcomes to ${new Date(o.observedUntil).toISOString()}: ${o.bad.dpd30} went 30+ dpd, ${o.bad.dpd60} went 60+ dpd\n`,
    );
    out.write(
      `wrongful cuts (cut, then never 30+ / 60+ dpd): current ${o.wrongfulCuts.current.dpd30} / ${o.wrongfulCuts.current.dpd60} of ${o.cuts.current}; candidate ${o.wrongfulCuts.candidate.dpd30} / ${o.wrongfulCuts.candidate.dpd60} of ${o.cuts.candidate}\n`,
    );
  }
  out.write(`who is hit: ${report.hits.length} accounts${report.hitsTruncated ? " (list truncated)" : ""}\n`);
}
