import type { Decision, DecisionInput, LineStatus } from "../engine/decide.ts";
import type { Region } from "../engine/events.ts";
import {
  type FeatureState,
  incomeForAffordability,
  monthlyObligations,
  readFeatures,
} from "../engine/features.ts";
import type { LineAction } from "../engine/policy.ts";
import { MS_PER_DAY } from "../engine/time.ts";
import type { CreditLineTable } from "../store/schema.ts";
import { type ClassMeasureSettings, measuresFor } from "./classMeasures.ts";

/** A credit line held in memory for the length of one transaction. */
export interface LineRecord {
  row: CreditLineTable;
  state: FeatureState;
  optOutAutomated: boolean;
  stateChanged: boolean;
  lineChanged: boolean;
}

interface RecentLimit {
  at: number;
  limit: number;
}

const RECENT_LIMIT_WINDOW_MS = 30 * MS_PER_DAY;
const MAX_RECENT_LIMITS = 8;

export function highestLimit30d(row: CreditLineTable, now: number): number {
  const recent = JSON.parse(row.recent_limits) as RecentLimit[];
  let highest = row.limit_amount;
  for (const r of recent) if (r.at >= now - RECENT_LIMIT_WINDOW_MS && r.limit > highest) highest = r.limit;
  return highest;
}

/** Records the limit a change replaced, so the max-cut guardrail sees 30 days back. */
export function rememberLimit(row: CreditLineTable, previous: number, at: number): void {
  const recent = (JSON.parse(row.recent_limits) as RecentLimit[]).filter(
    (r) => r.at >= at - RECENT_LIMIT_WINDOW_MS,
  );
  recent.push({ at, limit: previous });
  row.recent_limits = JSON.stringify(recent.slice(-MAX_RECENT_LIMITS));
}

/** `measures`: the class-wide measures in force (riskSettings.ts); the line's region picks its factor. */
export function decisionInput(
  line: LineRecord,
  trigger: DecisionInput["trigger"],
  now: number,
  measures?: ClassMeasureSettings,
): DecisionInput {
  const row = line.row;
  const income = incomeForAffordability(line.state);
  const classMeasures = measures === undefined ? undefined : measuresFor(measures, row.region);
  return {
    accountId: row.account_id,
    line: {
      status: row.status as LineStatus,
      limit: row.limit_amount,
      balance: row.balance,
      lastChangeAt: row.last_change_at,
      highestLimit30d: highestLimit30d(row, now),
      pendingAction: row.pending_action as LineAction | null,
    },
    features: readFeatures(line.state, { limit: row.limit_amount, balance: row.balance }, now),
    region: row.region as Region,
    affordability: {
      income: income.income,
      verified: income.verified,
      obligations: monthlyObligations(line.state),
    },
    optOutAutomated: line.optOutAutomated,
    trigger,
    ...(classMeasures === undefined ? {} : { classMeasures }),
  };
}

/** Changes the line as the decision says; returns whether anything changed. */
export function applyToLine(
  line: LineRecord,
  decision: Pick<Decision, "toLimit" | "toStatus">,
  at: number,
): boolean {
  const row = line.row;
  if (row.limit_amount === decision.toLimit && row.status === decision.toStatus) return false;
  if (row.limit_amount !== decision.toLimit) rememberLimit(row, row.limit_amount, at);
  row.limit_amount = decision.toLimit;
  row.status = decision.toStatus;
  row.last_change_at = at;
  row.updated_at = at;
  line.lineChanged = true;
  return true;
}
