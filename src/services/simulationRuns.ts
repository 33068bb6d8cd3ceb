import { readFileSync } from "node:fs";
import { parsePolicyYaml } from "../engine/policy/document.ts";
import { lintMessages, lintPolicy } from "../engine/policy/lint.ts";
import type { Store } from "../store/connect.ts";
import { activeEngine } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { DEFAULT_POLICY_PATH } from "./policyFiles.ts";
import { currentDeployment } from "./policyVersions.ts";
import { type SimulationReport, simulate, storeReport } from "./simulation.ts";

/**
 * A candidate that does not parse, validate or pass the same checks as an imported version (a tier
 * gap would leave scores no tier covers); each message names its line.
 */
export class CandidateRejected extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join("\n"));
  }
}

/** The YAML of the champion in force (the shipped default when none was activated): what an analyst edits. */
export async function championYaml(store: Store): Promise<{ version: string; yaml: string }> {
  const deployment = await currentDeployment(store);
  if (deployment !== null) {
    const row = await store.db
      .selectFrom("policy_versions")
      .select(["version", "yaml"])
      .where("version", "=", deployment.champion)
      .executeTakeFirstOrThrow();
    return row;
  }
  const yaml = readFileSync(DEFAULT_POLICY_PATH, "utf8");
  const parsed = parsePolicyYaml(yaml);
  return { version: parsed.ok ? parsed.policy.version : "default", yaml };
}

/**
 * Decides the open book under a candidate policy beside the one in force (same model and pricing:
 * only the policy changes) and keeps the report. Read only on the book itself.
 */
export async function runSimulation(
  deps: IngestDeps,
  candidateYaml: string,
  by: string,
  asOf: number = deps.clock(),
): Promise<{ id: string; report: SimulationReport }> {
  const lint = lintPolicy(candidateYaml);
  if (lint.policy === null || lint.findings.length > 0)
    throw new CandidateRejected(lintMessages("yaml", lint));
  const candidate = activeEngine(lint.policy, deps.engine.model, deps.engine.pricing);
  const report = await simulate(deps.store, deps.engine, candidate, asOf);
  const id = await storeReport(deps.store, report, asOf, by, deps.clock());
  return { id, report };
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
    report: JSON.parse(row.report) as SimulationReport,
  };
}
