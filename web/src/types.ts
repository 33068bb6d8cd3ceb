/**
 * The API's answer shapes, taken from the services that produce them (type-only imports: nothing of
 * the server is bundled), so the console and the API cannot drift apart silently.
 */
import type { listNotices } from "../../src/services/accountQueries.ts";
import type { StoredSimulation } from "../../src/services/simulationRun.ts";

export type { EventView } from "../../src/services/accountEvents.ts";
export type { AccountDetail, AccountSummary, DecisionView } from "../../src/services/accountQueries.ts";
export type { EvidenceKind } from "../../src/services/appealEvidence.ts";
export type { AppealView } from "../../src/services/appeals.ts";
export type { AuditReport } from "../../src/services/audit.ts";
export type { BudgetView } from "../../src/services/budgets.ts";
export type { DecisionExplanation, RuleTrace } from "../../src/services/decisionExplanation.ts";
export type { HardshipView } from "../../src/services/hardship.ts";
export type { JobProgress } from "../../src/services/jobProgress.ts";
export type { StabilityReport } from "../../src/services/monitoring.ts";
export type {
  ActivityCounts,
  LimitChangePoint,
  PortfolioExposure,
} from "../../src/services/portfolioQueries.ts";
export type { HitAccount, SimulationReport } from "../../src/services/simulation.ts";
/** A kept simulation as the API sends it: `report.hits` holds the first rows of `hitCount`. */
export type SimulationView = StoredSimulation & { hitCount: number };
export type { DrawdownQuoteView } from "../../src/services/pricing.ts";
export type NoticeView = Awaited<ReturnType<typeof listNotices>>[number];

export interface FeatureDefinition {
  name: string;
  en: string;
  zh: string;
  unit: "days" | "count" | "ratio" | "months" | "flag" | "fen";
  adverse: "higher" | "lower";
}

export interface Reference {
  features: FeatureDefinition[];
  regions: string[];
  segments: string[];
}
