import { type Decision, decide } from "../engine/decide.ts";
import { psi } from "../engine/scorecard/metrics.ts";
import type { Store } from "../store/connect.ts";
import type { ActiveEngine } from "./engineConfig.ts";
import { decisionInput } from "./lineBook.ts";
import { loadLines } from "./lineLoader.ts";

export const SIMULATION_CHUNK = 1000;
/** Most rows the who-is-hit list keeps (the counts always cover the whole book). */
export const MAX_HIT_LIST = 100_000;

export interface HitAccount {
  accountId: string;
  region: string;
  segment: string;
  currentAction: string;
  candidateAction: string;
  fromLimit: number;
  currentLimit: number;
  candidateLimit: number;
  candidateRule: string | null;
  pd: number;
}

export interface GroupChange {
  accounts: number;
  exposureNow: number;
  exposureCurrent: number;
  exposureCandidate: number;
}

export interface SimulationReport {
  candidate: { policy: string; model: string };
  current: { policy: string; model: string };
  accounts: number;
  actions: Record<string, { current: number; candidate: number }>;
  exposure: {
    total: GroupChange;
    byRegion: Record<string, GroupChange>;
    bySegment: Record<string, GroupChange>;
    byTier: Record<string, GroupChange>;
  };
  /** Probability of default times exposure at default, summed: what each policy leaves at risk. */
  expectedLoss: { current: number; candidate: number };
  /** Share of each segment the candidate treats adversely, over the share of the least-hit segment. */
  adverseImpact: Record<string, { adverseRate: number; ratioToLowest: number }>;
  /** Stability of the candidate's scores against the current model's on the same book. */
  scorePsi: number;
  /** Accounts whose outcome differs between the two (the ones a change of policy would hit). */
  hits: HitAccount[];
  hitsTruncated: boolean;
}

const ADVERSE = new Set(["decrease", "freeze", "close"]);

/**
 * Decides every open line under the current and a candidate engine, as of `asOf`, and compares
 * them. Read only: nothing is stored, applied or sent. Chunks are read in account order, so
 * memory holds one chunk of lines plus the report.
 */
export async function simulate(
  store: Store,
  current: ActiveEngine,
  candidate: ActiveEngine,
  asOf: number,
  onProgress: (done: number) => void = () => {},
): Promise<SimulationReport> {
  const report: SimulationReport = {
    candidate: { policy: candidate.policy.version, model: candidate.model.version },
    current: { policy: current.policy.version, model: current.model.version },
    accounts: 0,
    actions: {},
    exposure: { total: emptyGroup(), byRegion: {}, bySegment: {}, byTier: {} },
    expectedLoss: { current: 0, candidate: 0 },
    adverseImpact: {},
    scorePsi: 0,
    hits: [],
    hitsTruncated: false,
  };
  const segments = new Map<string, { accounts: number; adverse: number }>();
  const scoreBins = {
    current: new Float64Array(SCORE_BOUNDS.length + 1),
    candidate: new Float64Array(SCORE_BOUNDS.length + 1),
  };
  let cursor = "";
  for (;;) {
    const ids = await store.db
      .selectFrom("credit_lines")
      .select("account_id")
      .where("account_id", ">", cursor)
      .where("status", "!=", "CLOSED")
      .orderBy("account_id")
      .limit(SIMULATION_CHUNK)
      .execute();
    if (ids.length === 0) break;
    cursor = ids[ids.length - 1]?.account_id as string;
    const lines = await store.db.transaction().execute((trx) =>
      loadLines(
        trx,
        store,
        ids.map((r) => r.account_id),
      ),
    );
    for (const line of lines.values()) {
      const input = decisionInput(line, { kind: "analyst", actor: "simulation" }, asOf);
      const now = decide(input, current, asOf);
      const next = decide(input, candidate, asOf);
      report.accounts++;
      count(report.actions, now.action, "current");
      count(report.actions, next.action, "candidate");
      const row = line.row;
      for (const [groups, key] of [
        [report.exposure.byRegion, row.region],
        [report.exposure.bySegment, row.segment],
        [report.exposure.byTier, next.tier],
      ] as const) {
        groups[key] ??= emptyGroup();
        addExposure(groups[key], row, now, next);
      }
      addExposure(report.exposure.total, row, now, next);
      report.expectedLoss.current += now.pd * exposureAfter(now, row.balance);
      report.expectedLoss.candidate += next.pd * exposureAfter(next, row.balance);
      const s = segments.get(row.segment) ?? { accounts: 0, adverse: 0 };
      s.accounts++;
      if (ADVERSE.has(next.action)) s.adverse++;
      segments.set(row.segment, s);
      tally(scoreBins.current, now.score);
      tally(scoreBins.candidate, next.score);
      if (now.action !== next.action || now.toLimit !== next.toLimit || now.toStatus !== next.toStatus) {
        if (report.hits.length < MAX_HIT_LIST) {
          report.hits.push({
            accountId: row.account_id,
            region: row.region,
            segment: row.segment,
            currentAction: now.action,
            candidateAction: next.action,
            fromLimit: row.limit_amount,
            currentLimit: now.toLimit,
            candidateLimit: next.toLimit,
            candidateRule: next.ruleId,
            pd: next.pd,
          });
        } else report.hitsTruncated = true;
      }
    }
    onProgress(report.accounts);
    if (ids.length < SIMULATION_CHUNK) break;
  }
  const rates = [...segments].map(([segment, s]) => [segment, s.adverse / s.accounts] as const);
  const lowest = Math.min(...rates.map(([, r]) => r).filter((r) => r > 0), Number.POSITIVE_INFINITY);
  for (const [segment, rate] of rates) {
    report.adverseImpact[segment] = {
      adverseRate: rate,
      ratioToLowest: Number.isFinite(lowest) ? rate / lowest : 0,
    };
  }
  report.scorePsi =
    report.accounts === 0 ? 0 : psi(Array.from(scoreBins.current), Array.from(scoreBins.candidate)).psi;
  report.expectedLoss.current = Math.round(report.expectedLoss.current);
  report.expectedLoss.candidate = Math.round(report.expectedLoss.candidate);
  return report;
}

/** The who-is-hit list as CSV, for analysts' spreadsheets. */
export function hitsCsv(report: SimulationReport): string {
  const header =
    "account_id,region,segment,current_action,candidate_action,from_limit,current_limit,candidate_limit,candidate_rule,pd";
  const rows = report.hits.map((h) =>
    [
      h.accountId,
      h.region,
      h.segment,
      h.currentAction,
      h.candidateAction,
      h.fromLimit,
      h.currentLimit,
      h.candidateLimit,
      h.candidateRule ?? "",
      h.pd.toFixed(6),
    ].join(","),
  );
  return `${[header, ...rows].join("\n")}\n`;
}

const SCORE_BOUNDS = [450, 500, 530, 550, 570, 590, 606, 620, 640, 660];
function tally(bins: Float64Array, score: number): void {
  let b = 0;
  while (b < SCORE_BOUNDS.length && score >= (SCORE_BOUNDS[b] as number)) b++;
  bins[b] = (bins[b] as number) + 1;
}

/**
 * Exposure at default after a decision: an active line can be drawn to its limit; a frozen or
 * closed one only owes what is already drawn.
 */
const exposureAfter = (d: Decision, balance: number) =>
  d.toStatus === "ACTIVE" ? Math.max(d.toLimit, balance) : balance;
const emptyGroup = (): GroupChange => ({
  accounts: 0,
  exposureNow: 0,
  exposureCurrent: 0,
  exposureCandidate: 0,
});

function addExposure(
  group: GroupChange,
  row: { limit_amount: number; balance: number; status: string },
  now: Decision,
  next: Decision,
): void {
  group.accounts++;
  group.exposureNow += row.status === "ACTIVE" ? Math.max(row.limit_amount, row.balance) : row.balance;
  group.exposureCurrent += exposureAfter(now, row.balance);
  group.exposureCandidate += exposureAfter(next, row.balance);
}

function count(actions: SimulationReport["actions"], action: string, side: "current" | "candidate"): void {
  actions[action] ??= { current: 0, candidate: 0 };
  actions[action][side]++;
}

/** Keeps a report, linked to the candidate policy version it judged. */
export async function storeReport(
  store: Store,
  report: SimulationReport,
  asOf: number,
  createdBy: string,
  at: number,
): Promise<string> {
  const id = `sim_${report.candidate.policy}_${at}`;
  await store.db
    .insertInto("simulation_reports")
    .values({
      id,
      candidate_policy: report.candidate.policy,
      candidate_model: report.candidate.model,
      as_of: asOf,
      accounts: report.accounts,
      hits: report.hits.length,
      report: JSON.stringify(report),
      created_by: createdBy,
      created_at: at,
    })
    .execute();
  return id;
}
