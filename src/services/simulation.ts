import { type ClassMeasures, type Decision, type DecisionInput, decide } from "../engine/decide.ts";
import { psi } from "../engine/scorecard/metrics.ts";
import type { Store } from "../store/connect.ts";
import { linesAsOf } from "./asOfBook.ts";
import {
  type ClassMeasureSettings,
  classMeasuresIn,
  measuresFor,
  type WhatIfMeasures,
  withWhatIf,
} from "./classMeasures.ts";
import type { ActiveEngine } from "./engineConfig.ts";
import { decisionInput, type LineRecord } from "./lineBook.ts";
import { bookLines } from "./lineLoader.ts";
import { policyHash } from "./policyVersions.ts";

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
  /** The current (candidate) decision was made by a class-wide measure: it carries `classWide`. */
  currentClassWide: boolean;
  candidateClassWide: boolean;
  /** Replays only: the most days past due the account reached after the as-of date. */
  worstDpdAfter: number | null;
}

/** Counts by how late an account went after the as-of date: 30+ and 60+ days past due. */
export interface ByDpd {
  dpd30: number;
  dpd60: number;
}

export interface GroupChange {
  accounts: number;
  exposureNow: number;
  exposureCurrent: number;
  exposureCandidate: number;
}

export interface SimulationReport {
  /** "book": the lines as they are now; "replay": each line rebuilt from the stored history as of `asOf`. */
  mode: "book" | "replay";
  asOf: number;
  candidate: { policy: string; model: string; policyHash: string };
  current: { policy: string; model: string };
  /**
   * The class-wide measures each side decided under: those in force (for a replay, those in force
   * at `asOf`), as live decisions read them; the candidate's with the what-if set on top.
   */
  measures: { current: ClassMeasureSettings; candidate: ClassMeasureSettings };
  /** Hypothetical measures the candidate ran under, or null. Such a report is not approval evidence. */
  whatIf: WhatIfMeasures | null;
  /** Accounts whose decision a class-wide measure made (a decision record would carry `classWide`). */
  classWide: { current: number; candidate: number };
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
  /**
   * Replays only, where the later history is known: what became of the accounts after `asOf` (up
   * to `observedUntil`), and the cuts each policy would have made on accounts that then stayed
   * below 30 (or 60) days past due: the wrongful cuts.
   */
  outcomes: {
    observedUntil: number;
    bad: ByDpd;
    cuts: { current: number; candidate: number };
    wrongfulCuts: { current: ByDpd; candidate: ByDpd };
  } | null;
}

export interface SimulationOptions {
  /** The instant every line is decided as of. */
  asOf: number;
  /**
   * Rebuild each line from the stored history as of `asOf` instead of reading the book as it is,
   * and judge the decisions by what happened between `asOf` and this instant.
   */
  replayUntil?: number;
  /** Measures only the candidate decides under, as if set on top of those in force. */
  whatIf?: WhatIfMeasures;
  /** Called after each chunk with the accounts done and the last account id read. */
  onProgress?: (done: number, lastAccountId: string) => void;
}

/** The actions that cut a line: lower its limit, freeze or close it. */
export const ADVERSE: ReadonlySet<string> = new Set(["decrease", "freeze", "close"]);

/** Open lines as they are now, or rebuilt as of a past instant with their later worst dpd. */
async function* linesToDecide(
  store: Store,
  options: SimulationOptions,
): AsyncGenerator<{ line: LineRecord; worstDpdAfter: number | null }> {
  const until = options.replayUntil;
  if (until === undefined) {
    for await (const line of bookLines(store))
      if (line.row.status !== "CLOSED") yield { line, worstDpdAfter: null };
    return;
  }
  let cursor = "";
  for (;;) {
    const ids = await store.db
      .selectFrom("credit_lines")
      .select("account_id")
      .where("account_id", ">", cursor)
      .where("opened_at", "<=", options.asOf)
      .orderBy("account_id")
      .limit(SIMULATION_CHUNK)
      .execute();
    const last = ids[ids.length - 1];
    if (last === undefined) return;
    cursor = last.account_id;
    const replayed = await linesAsOf(
      store,
      ids.map((r) => r.account_id),
      options.asOf,
      until,
    );
    for (const r of replayed.values()) if (r.line.row.status !== "CLOSED") yield r;
    if (ids.length < SIMULATION_CHUNK) return;
  }
}

/**
 * Decides every open line under the current and a candidate engine, as of `asOf`, and compares
 * them. Both sides decide under the class-wide measures live decisions read (in force now, or at
 * `asOf` for a replay), so the two differ only by the candidate and its what-if measures.
 * Read only: nothing is stored, applied or sent. Lines stream in account order, so memory holds
 * one page of lines plus the report.
 */
export async function simulate(
  store: Store,
  current: ActiveEngine,
  candidate: ActiveEngine,
  options: SimulationOptions,
): Promise<SimulationReport> {
  const { asOf } = options;
  const replay = options.replayUntil !== undefined;
  const inForce = await classMeasuresIn(store.db, replay ? asOf : undefined);
  const whatIf = options.whatIf === undefined || isEmptyWhatIf(options.whatIf) ? null : options.whatIf;
  const measures = {
    current: inForce,
    candidate: whatIf === null ? inForce : withWhatIf(inForce, whatIf),
  };
  const report: SimulationReport = {
    mode: replay ? "replay" : "book",
    asOf,
    candidate: {
      policy: candidate.policy.version,
      model: candidate.model.version,
      policyHash: policyHash(candidate.policy),
    },
    current: { policy: current.policy.version, model: current.model.version },
    measures,
    whatIf,
    classWide: { current: 0, candidate: 0 },
    accounts: 0,
    actions: {},
    exposure: { total: emptyGroup(), byRegion: {}, bySegment: {}, byTier: {} },
    expectedLoss: { current: 0, candidate: 0 },
    adverseImpact: {},
    scorePsi: 0,
    hits: [],
    hitsTruncated: false,
    outcomes: replay
      ? {
          observedUntil: options.replayUntil as number,
          bad: { dpd30: 0, dpd60: 0 },
          cuts: { current: 0, candidate: 0 },
          wrongfulCuts: { current: { dpd30: 0, dpd60: 0 }, candidate: { dpd30: 0, dpd60: 0 } },
        }
      : null,
  };
  const segments = new Map<string, { accounts: number; adverse: number }>();
  const scoreBins = {
    current: new Float64Array(SCORE_BOUNDS.length + 1),
    candidate: new Float64Array(SCORE_BOUNDS.length + 1),
  };
  let lastAccountId = "";
  for await (const { line, worstDpdAfter } of linesToDecide(store, options)) {
    const base = decisionInput(line, { kind: "analyst", actor: "simulation" }, asOf);
    const now = decide(withMeasures(base, measuresFor(measures.current, line.row.region)), current, asOf);
    const next = decide(
      withMeasures(base, measuresFor(measures.candidate, line.row.region)),
      candidate,
      asOf,
    );
    report.accounts++;
    if (now.classWide !== undefined) report.classWide.current++;
    if (next.classWide !== undefined) report.classWide.candidate++;
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
          currentClassWide: now.classWide !== undefined,
          candidateClassWide: next.classWide !== undefined,
          worstDpdAfter,
        });
      } else report.hitsTruncated = true;
    }
    if (report.outcomes !== null && worstDpdAfter !== null)
      judgeOutcome(report.outcomes, now.action, next.action, worstDpdAfter);
    lastAccountId = row.account_id;
    if (report.accounts % SIMULATION_CHUNK === 0) options.onProgress?.(report.accounts, lastAccountId);
  }
  options.onProgress?.(report.accounts, lastAccountId);
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

const isEmptyWhatIf = (w: WhatIfMeasures) =>
  w.stress === undefined && Object.keys(w.regions ?? {}).length === 0;

/** The decision input under a side's class-wide measures (none: the personal input as it is). */
function withMeasures(input: DecisionInput, classMeasures: ClassMeasures | undefined): DecisionInput {
  return classMeasures === undefined ? input : { ...input, classMeasures };
}

/** Tallies what became of one account after the as-of date, and whether each policy's cut was wrongful. */
function judgeOutcome(
  outcomes: NonNullable<SimulationReport["outcomes"]>,
  currentAction: string,
  candidateAction: string,
  worstDpdAfter: number,
): void {
  const bad30 = worstDpdAfter >= 30;
  const bad60 = worstDpdAfter >= 60;
  if (bad30) outcomes.bad.dpd30++;
  if (bad60) outcomes.bad.dpd60++;
  for (const [side, action] of [
    ["current", currentAction],
    ["candidate", candidateAction],
  ] as const) {
    if (!ADVERSE.has(action)) continue;
    outcomes.cuts[side]++;
    if (!bad30) outcomes.wrongfulCuts[side].dpd30++;
    if (!bad60) outcomes.wrongfulCuts[side].dpd60++;
  }
}

export interface HitFilter {
  region?: string;
  segment?: string;
  /** The candidate's action. */
  action?: string;
}

/** The who-is-hit list narrowed to a region, segment and/or candidate action. */
export function filterHits(hits: readonly HitAccount[], filter: HitFilter): HitAccount[] {
  return hits.filter(
    (h) =>
      (filter.region === undefined || h.region === filter.region) &&
      (filter.segment === undefined || h.segment === filter.segment) &&
      (filter.action === undefined || h.candidateAction === filter.action),
  );
}

/** The who-is-hit list as CSV, for analysts' spreadsheets. */
export function hitsCsv(hits: readonly HitAccount[]): string {
  const header =
    "account_id,region,segment,current_action,candidate_action,from_limit,current_limit,candidate_limit,candidate_rule,pd,worst_dpd_after,current_class_wide,candidate_class_wide";
  const rows = hits.map((h) =>
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
      h.worstDpdAfter ?? "",
      h.currentClassWide ? 1 : 0,
      h.candidateClassWide ? 1 : 0,
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
export const exposureAfter = (d: Pick<Decision, "toStatus" | "toLimit">, balance: number) =>
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
  group.exposureNow += exposureAfter(
    { toStatus: row.status as Decision["toStatus"], toLimit: row.limit_amount },
    row.balance,
  );
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
  createdBy: string,
  at: number,
  id: string,
): Promise<string> {
  await store.db
    .insertInto("simulation_reports")
    .values({
      id,
      candidate_policy: report.candidate.policy,
      candidate_model: report.candidate.model,
      as_of: report.asOf,
      mode: report.mode,
      policy_hash: report.candidate.policyHash,
      what_if: report.whatIf === null ? null : JSON.stringify(report.whatIf),
      accounts: report.accounts,
      hits: report.hits.length,
      report: JSON.stringify(report),
      created_by: createdBy,
      created_at: at,
    })
    .execute();
  return id;
}
