import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { GMSC_FILE, trainDefaultModel } from "../services/behaviourModel.ts";
import { dataDirectory } from "../services/dataset.ts";
import {
  DEFAULT_MODEL_ARTIFACT,
  type DefaultModelArtifact,
  defaultModelArtifact,
} from "../services/engineConfig.ts";
import { openHeadroom } from "../services/headroom.ts";
import { getModel, listModels, type ModelState, modelHistory, moveModel } from "../services/modelRegistry.ts";
import { trainAndRegister } from "../services/modelTraining.ts";
import { liveStability } from "../services/monitoring.ts";
import { formatModelReport } from "./modelReport.ts";

type Global = () => { database?: string };

function specialValues(text: string): number[] {
  const values = text.split(",").map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v)))
    throw new Error(`--special must be numbers separated by commas, got "${text}"`);
  return values;
}

async function withHeadroom<T>(
  global: Global,
  work: (h: Awaited<ReturnType<typeof openHeadroom>>) => Promise<T>,
): Promise<T> {
  const headroom = await openHeadroom({ databaseUrl: global().database });
  try {
    return await work(headroom);
  } finally {
    await headroom.close();
  }
}

/** `headroom model ...`: train, report and move scorecard versions through their lifecycle. */
export function addModelCommands(program: Command, global: Global): void {
  const model = program.command("model").description("scorecard versions: train, report, lifecycle");
  model
    .command("train")
    .description(
      "train a scorecard on a labelled CSV (or .csv.gz), print its validation report, register a draft",
    )
    .requiredOption("--data <file>", "labelled CSV or .csv.gz")
    .requiredOption("--target <column>", "the label column")
    .option("--bad <value>", "label value that means bad", "1")
    .option("--version <name>", "version name (default: scorecard-<timestamp>)")
    .option("--author <name>", "who built it (approval needs someone else)", process.env.USER ?? "analyst")
    .option("--special <values>", "special values in every numeric column, e.g. -9,-8,-7")
    .action(async (opts) =>
      withHeadroom(global, async (headroom) => {
        const at = headroom.clock();
        const trained = await trainAndRegister(
          headroom.store,
          {
            data: opts.data,
            target: opts.target,
            bad: opts.bad,
            version: opts.version ?? `scorecard-${at}`,
            author: opts.author,
            specialValues: opts.special === undefined ? [] : specialValues(opts.special),
          },
          at,
        );
        process.stdout.write(formatModelReport(trained.model));
        process.stdout.write(
          `\nregistered draft ${trained.model.version} (trained in ${trained.trainingMs.toFixed(0)} ms)\n`,
        );
      }),
    );
  model
    .command("train-default")
    .description(
      "retrain the engine's default behavioural model from Give Me Some Credit and write its artifact",
    )
    .option("--out <file>", "artifact path", DEFAULT_MODEL_ARTIFACT)
    .action(async (opts) => {
      const trained = trainDefaultModel();
      if (trained === null)
        throw new Error(`${GMSC_FILE} not found in ${dataDirectory()} (set HEADROOM_DATA_DIR)`);
      const artifact: DefaultModelArtifact = {
        model: trained.model,
        trainedOn: `${GMSC_FILE}, 70% stratified (seed 42); columns read as engine features`,
        validation: trained.validation,
        featureBaselines: trained.featureBaselines,
      };
      writeFileSync(opts.out, `${JSON.stringify(artifact, null, 1)}\n`);
      const v = trained.validation;
      process.stdout.write(
        `wrote ${opts.out}: ${trained.model.version}, held-out AUC ${v.auc.toFixed(4)} KS ${v.ks.toFixed(4)} Gini ${v.gini.toFixed(4)} on ${v.rows} rows\n`,
      );
    });
  model
    .command("monitor")
    .description("stability of the live book against the active model's baseline: score PSI and feature CSI")
    .action(async () =>
      withHeadroom(global, async (headroom) => {
        const report = await liveStability(headroom.store, defaultModelArtifact());
        if (report === null) {
          process.stdout.write("no decisions by the active model yet\n");
          return;
        }
        process.stdout.write(
          `model ${report.modelVersion}, latest ${report.decisions} decisions: score PSI ${report.score.psi.toFixed(4)} (${report.score.band})\n`,
        );
        for (const f of report.features) {
          process.stdout.write(`  ${f.feature.padEnd(20)} CSI ${f.csi.toFixed(4)} (${f.band})\n`);
        }
      }),
    );
  model
    .command("report <version>")
    .description("print a version's validation report, bins and lifecycle")
    .action(async (version: string) =>
      withHeadroom(global, async (headroom) => {
        const found = await getModel(headroom.store, version);
        if (found === null) throw new Error(`model version ${version} does not exist`);
        process.stdout.write(formatModelReport(found));
        process.stdout.write("\nlifecycle:\n");
        for (const step of await modelHistory(headroom.store, version)) {
          process.stdout.write(
            `  ${new Date(step.at).toISOString()}  ${step.from_state} -> ${step.to_state}  by ${step.actor}: ${step.reason}\n`,
          );
        }
      }),
    );
  model
    .command("list")
    .description("every registered version with its state and held-out AUC")
    .action(async () =>
      withHeadroom(global, async (headroom) => {
        for (const m of await listModels(headroom.store)) {
          process.stdout.write(
            `${m.version.padEnd(32)} ${m.state.padEnd(10)} AUC ${m.validation.auc.toFixed(4)}  author ${m.author}\n`,
          );
        }
      }),
    );
  const steps: [string, ModelState, string][] = [
    ["validate", "validated", "mark a draft validated (its report reviewed)"],
    ["approve", "approved", "approve a validated version (not by its author)"],
    ["activate", "active", "make an approved version the active one (the previous one retires)"],
    ["challenger", "challenger", "run an approved version as a challenger"],
    ["retire", "retired", "retire a version"],
  ];
  for (const [name, state, description] of steps) {
    model
      .command(`${name} <version>`)
      .description(description)
      .requiredOption("--actor <name>", "who does this")
      .requiredOption("--reason <text>", "why, in words (kept in the ledger)")
      .action(async (version: string, opts) =>
        withHeadroom(global, async (headroom) => {
          const moved = await moveModel(
            headroom.store,
            version,
            state,
            opts.actor,
            opts.reason,
            headroom.clock(),
          );
          process.stdout.write(`model ${moved.version} is now ${moved.state}\n`);
        }),
      );
  }
}
