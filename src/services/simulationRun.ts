import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { FEATURES, type FeatureName } from "../engine/features.ts";
import { parsePolicyYaml } from "../engine/policy/document.ts";
import { lintMessages, lintPolicy } from "../engine/policy/lint.ts";
import type { Policy } from "../engine/policy.ts";
import { toPointsModel } from "../engine/scorecard/pointsModel.ts";
import type { Store } from "../store/connect.ts";
import type { WhatIfMeasures } from "./classMeasures.ts";
import { type ActiveEngine, activeEngine } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { getModel } from "./modelRegistry.ts";
import { DEFAULT_POLICY_PATH, readPolicyFile } from "./policyFiles.ts";
import { currentDeployment, policyOf } from "./policyVersions.ts";
import { DONE } from "./review.ts";
import { factorProblem, regionProblem } from "./riskSettings.ts";
import { type SimulationReport, simulate, storeReport } from "./simulation.ts";

export class SimulationRequestError extends Error {
  constructor(
    /** The request field at fault (`regionFactors.<region>` for one region's what-if factor). */
    readonly field: string,
    message: string,
    /** For a document: each problem as `yaml:LINE:COLUMN message`. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

export interface SimulationRequest {
  /** A stored policy version or, from the CLI, a policy file; absent: the policy in force. */
  policy?: string;
  /** A candidate policy document not stored yet (the console's editor); instead of `policy`. */
  yaml?: string;
  /** A model version from the registry; absent: the model in force. */
  model?: string;
  /** A past instant: replay the history as of then. Absent: the book as it is now. */
  asOf?: number;
  /** Hypothetical measures for the candidate only, as if set on top of those in force. */
  whatIf?: WhatIfMeasures;
  by: string;
}

/** Refuses a what-if a setting would refuse: a factor out of bounds or an unknown region. */
export function checkWhatIf(whatIf: WhatIfMeasures | undefined): void {
  if (whatIf === undefined) return;
  const stress = whatIf.stress === undefined ? null : factorProblem(whatIf.stress);
  if (stress !== null) throw new SimulationRequestError("stress", `stress ${stress}`);
  for (const [region, factor] of Object.entries(whatIf.regions ?? {})) {
    const badRegion = regionProblem(region);
    if (badRegion !== null)
      throw new SimulationRequestError(`regionFactors.${region}`, `region ${badRegion}`);
    const badFactor = factorProblem(factor);
    if (badFactor !== null)
      throw new SimulationRequestError(`regionFactors.${region}`, `the factor for ${region} ${badFactor}`);
  }
}

/** A new simulation's id: readable (candidate and time) and unique even for runs in the same millisecond. */
export const newSimulationId = (policy: string, model: string, at: number) =>
  `sim_${policy}_${model}_${at}_${randomUUID().slice(0, 8)}`;

/** The job_cursors key of a simulation, so /v1/jobs shows its progress like a review's. */
export const simulationJob = (id: string) => `simulation:${id}`;

/** The candidate engine a request names: its policy and model, each defaulting to the one in force. */
export async function candidateEngine(
  deps: Pick<IngestDeps, "store" | "engine">,
  request: Pick<SimulationRequest, "policy" | "yaml" | "model">,
  allowFiles: boolean,
): Promise<ActiveEngine> {
  let policy: Policy = deps.engine.policy;
  if (request.policy !== undefined && request.yaml !== undefined)
    throw new SimulationRequestError("yaml", "name a stored policy version or send a document, not both");
  if (request.yaml !== undefined) {
    // The same checks as an imported version: a tier gap would leave scores no tier covers.
    const lint = lintPolicy(request.yaml);
    if (lint.policy === null || lint.findings.length > 0) {
      const problems = lintMessages("yaml", lint);
      throw new SimulationRequestError("yaml", problems.join("; "), problems);
    }
    policy = lint.policy;
  } else if (request.policy !== undefined) {
    if (allowFiles && existsSync(request.policy)) policy = readPolicyFile(request.policy).policy;
    else {
      try {
        policy = await policyOf(deps.store, request.policy);
      } catch {
        throw new SimulationRequestError(
          "policy",
          `policy ${request.policy} is neither a stored policy version${allowFiles ? " nor a file" : ""}`,
        );
      }
    }
  }
  let model = deps.engine.model;
  if (request.model !== undefined) {
    const found = await getModel(deps.store, request.model);
    if (found === null)
      throw new SimulationRequestError("model", `model version ${request.model} is not in the registry`);
    const isFeature = (name: string): name is FeatureName => name in FEATURES;
    model = toPointsModel(found.scorecard, isFeature);
  }
  return activeEngine(policy, model, deps.engine.pricing);
}

/**
 * Runs and stores one simulation, recording its progress under job_cursors as it goes. With a
 * past `asOf` the history is replayed as of then and judged by what happened up to now.
 */
export async function runSimulation(
  deps: IngestDeps,
  request: SimulationRequest,
  options: {
    id?: string;
    allowFiles?: boolean;
    /** The request's candidate engine when the caller already resolved it (to refuse a bad one early). */
    candidate?: ActiveEngine;
    onProgress?: (done: number) => void;
  } = {},
): Promise<{ id: string; report: SimulationReport }> {
  const now = deps.clock();
  if (request.asOf !== undefined && !(request.asOf <= now))
    throw new SimulationRequestError("asOf", "the as-of date must not be in the future");
  checkWhatIf(request.whatIf);
  const candidate = options.candidate ?? (await candidateEngine(deps, request, options.allowFiles ?? false));
  const id = options.id ?? newSimulationId(candidate.policy.version, candidate.model.version, now);
  const job = simulationJob(id);
  const mark = (cursor: string) =>
    deps.store.db
      .insertInto("job_cursors")
      .values({ job, cursor, updated_at: deps.clock() })
      .onConflict((oc) => oc.column("job").doUpdateSet({ cursor, updated_at: deps.clock() }))
      .execute();
  await mark("");
  let pending = Promise.resolve();
  const report = await simulate(deps.store, deps.engine, candidate, {
    asOf: request.asOf ?? now,
    replayUntil: request.asOf === undefined ? undefined : now,
    whatIf: request.whatIf,
    onProgress: (done, lastAccountId) => {
      options.onProgress?.(done);
      pending = pending.then(() => mark(lastAccountId).then(() => {}));
    },
  });
  await pending;
  await storeReport(deps.store, report, request.by, now, id);
  await mark(DONE);
  return { id, report };
}

/** The YAML of the champion in force (the shipped default when none was activated): what an analyst edits. */
export async function championYaml(store: Store): Promise<{ version: string; yaml: string }> {
  const deployment = await currentDeployment(store);
  if (deployment !== null) {
    return store.db
      .selectFrom("policy_versions")
      .select(["version", "yaml"])
      .where("version", "=", deployment.champion)
      .executeTakeFirstOrThrow();
  }
  const yaml = readFileSync(DEFAULT_POLICY_PATH, "utf8");
  const parsed = parsePolicyYaml(yaml);
  return { version: parsed.ok ? parsed.policy.version : "default", yaml };
}

export interface StoredSimulation {
  id: string;
  asOf: string;
  createdBy: string;
  createdAt: string;
  report: SimulationReport;
}

export async function getSimulation(store: Store, id: string): Promise<StoredSimulation | null> {
  const row = await store.db
    .selectFrom("simulation_reports")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    id: row.id,
    asOf: new Date(row.as_of).toISOString(),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    report: withDefaults(JSON.parse(row.report) as SimulationReport),
  };
}

const NO_MEASURES = { regions: {}, stress: 1 };

/**
 * A report stored before simulations read class-wide measures decided both sides without any:
 * exactly what these defaults say (no measures, no what-if, nothing class-wide).
 */
function withDefaults(report: SimulationReport): SimulationReport {
  return {
    ...report,
    measures: report.measures ?? { current: NO_MEASURES, candidate: NO_MEASURES },
    whatIf: report.whatIf ?? null,
    classWide: report.classWide ?? { current: 0, candidate: 0 },
    hits:
      report.hits[0]?.currentClassWide !== undefined
        ? report.hits
        : report.hits.map((h) => ({ ...h, currentClassWide: false, candidateClassWide: false })),
  };
}
