import type { Command } from "commander";
import { REGIONS } from "../engine/events.ts";
import { RELIEF_KINDS, type Relief } from "../engine/pricing/relief.ts";
import { openHeadroom } from "../services/headroom.ts";
import { compareStressResponses, type StressOutcome, type StressReport } from "../services/stressTest.ts";
import { isoOption, measuresText } from "./simulateCommand.ts";

const yuan = (fen: number) => (fen / 100).toLocaleString("en-US", { maximumFractionDigits: 0 });

function positive(name: string, value: string, max = Number.POSITIVE_INFINITY): number {
  const n = Number(value);
  if (!(n > 0 && n <= max))
    throw new Error(
      `${name} must be a number above 0${Number.isFinite(max) ? ` and at most ${max}` : ""}, got "${value}"`,
    );
  return n;
}

/** `payment_holiday:3` or `term_extension:6` (months). */
function parseRelief(value: string): Relief {
  const [kind, months] = value.split(":");
  if (kind === "payment_holiday" || kind === "term_extension")
    return { kind, months: Math.round(positive("--relief months", months ?? "", 24)) };
  throw new Error(
    `--relief must be payment_holiday:MONTHS or term_extension:MONTHS (of ${RELIEF_KINDS.join(", ")}, a rate cut is not modelled), got "${value}"`,
  );
}

/** `headroom simulate stress`: cut lines or offer relief under a stress scenario, side by side. */
export function addStressCommand(simulate: Command, global: () => { database?: string }): void {
  simulate
    .command("stress")
    .description(
      "a stress scenario (PD times a multiplier) answered two ways: cut lines as the policy decides, or offer relief to the same borrowers; changes nothing",
    )
    .requiredOption("--pd-multiplier <m>", "every borrower's probability of default times this")
    .option("--region <region>", `stress one region only (${REGIONS.join(", ")})`)
    .option("--relief <kind:months>", "the relief offered instead of cuts", "payment_holiday:3")
    .option("--acceptance <share>", "share of borrowers who accept relief (default: observed, else 0.5)")
    .option("--as-of <date>", "decide as of this ISO date (default: now)")
    .action(async (opts) => {
      const pdMultiplier = positive("--pd-multiplier", opts.pdMultiplier, 100);
      if (opts.region !== undefined && !(REGIONS as readonly string[]).includes(opts.region))
        throw new Error(`--region must be one of ${REGIONS.join(", ")}, got "${opts.region}"`);
      const relief = parseRelief(opts.relief);
      const acceptance =
        opts.acceptance === undefined ? undefined : positive("--acceptance", opts.acceptance, 1);
      const headroom = await openHeadroom({ databaseUrl: global().database });
      try {
        const report = await compareStressResponses(headroom.store, headroom.engine, {
          pdMultiplier,
          region: opts.region,
          relief,
          acceptance,
          asOf: isoOption("--as-of", opts.asOf) ?? headroom.clock(),
        });
        printStress(report);
      } finally {
        await headroom.close();
      }
    });
}

function printStress(report: StressReport): void {
  const out = process.stdout;
  out.write(
    `stress: PD x${report.pdMultiplier}${report.region === null ? "" : ` in ${report.region}`} under ${report.policy}/${report.model}; relief ${report.relief.kind} (${"months" in report.relief ? `${report.relief.months} months` : ""})\n`,
  );
  out.write(`class-wide measures in force (both responses): ${measuresText(report.measures)}\n`);
  out.write(
    `unstressed: expected loss ${yuan(report.unstressed.expectedLoss)} yuan on ${yuan(report.unstressed.exposure)} yuan exposure\n`,
  );
  const line = (name: string, o: StressOutcome) =>
    `  ${name.padEnd(13)} expected loss ${yuan(o.expectedLoss).padStart(14)} yuan  exposure ${yuan(o.exposure).padStart(16)} yuan  cut ${String(o.borrowersCut).padStart(9)}  kept current ${o.keptCurrent}\n`;
  for (const [name, g] of [["all", report.total], ...Object.entries(report.byRegion)] as const) {
    out.write(`${name}: ${g.accounts} open lines, ${g.stressCuts} cut for credit reasons under stress\n`);
    out.write(line("A cut lines", g.cutLines));
    out.write(line("B offer relief", g.offerRelief));
  }
  out.write("assumptions:\n");
  for (const a of report.assumptions) out.write(`  - ${a}\n`);
}
