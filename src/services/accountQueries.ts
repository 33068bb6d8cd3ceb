import type { Decision, DecisionInput } from "../engine/decide.ts";
import { decodeFeatureState } from "../engine/featureStateCodec.ts";
import { type Features, readFeatures } from "../engine/features.ts";
import type { Store } from "../store/connect.ts";
import type { CreditLineTable, DecisionTable } from "../store/schema.ts";

export const MAX_PAGE = 500;

export interface AccountSummary {
  accountId: string;
  borrowerId: string;
  region: string;
  segment: string;
  status: string;
  limit: number;
  balance: number;
  available: number;
  pendingAction: string | null;
  lastChangeAt: string | null;
}

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

function summary(row: CreditLineTable): AccountSummary {
  return {
    accountId: row.account_id,
    borrowerId: row.borrower_id,
    region: row.region,
    segment: row.segment,
    status: row.status,
    limit: row.limit_amount,
    balance: row.balance,
    available: row.status === "ACTIVE" ? Math.max(0, row.limit_amount - row.balance) : 0,
    pendingAction: row.pending_action,
    lastChangeAt: iso(row.last_change_at),
  };
}

export async function listAccounts(
  store: Store,
  filter: { changed?: boolean; status?: string; region?: string; after?: string; limit: number },
): Promise<{ accounts: AccountSummary[]; next: string | null }> {
  let query = store.db
    .selectFrom("credit_lines")
    .selectAll()
    .orderBy("account_id")
    .limit(Math.min(filter.limit, MAX_PAGE));
  if (filter.changed === true) query = query.where("last_change_at", "is not", null);
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.region !== undefined) query = query.where("region", "=", filter.region);
  if (filter.after !== undefined) query = query.where("account_id", ">", filter.after);
  const rows = await query.execute();
  const next =
    rows.length === Math.min(filter.limit, MAX_PAGE) ? (rows[rows.length - 1]?.account_id ?? null) : null;
  return { accounts: rows.map(summary), next };
}

export interface DecisionView {
  decisionId: string;
  accountId: string;
  trigger: string;
  action: string;
  ruleId: string | null;
  status: string;
  adverse: boolean;
  fromLimit: number;
  toLimit: number;
  fromStatus: string;
  toStatus: string;
  score: number;
  decidedAt: string;
  effectiveAt: string;
  recordedAt: string;
  policyVersion: string;
  modelVersion: string;
  reasons: Decision["reasons"];
}

export function decisionView(row: DecisionTable): DecisionView {
  const output = JSON.parse(row.output) as Decision;
  return {
    decisionId: row.id,
    accountId: row.account_id,
    trigger: row.trigger_kind,
    action: row.action,
    ruleId: row.rule_id,
    status: row.status,
    adverse: row.adverse === 1,
    fromLimit: row.from_limit,
    toLimit: row.to_limit,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    score: row.score,
    decidedAt: iso(row.decided_at) as string,
    effectiveAt: iso(row.effective_at) as string,
    recordedAt: iso(row.recorded_at) as string,
    policyVersion: row.policy_version,
    modelVersion: row.model_version,
    reasons: output.reasons,
  };
}

export interface AccountDetail extends AccountSummary {
  openedAt: string;
  features: Features;
  changes: {
    decisionId: string;
    fromLimit: number;
    toLimit: number;
    fromStatus: string;
    toStatus: string;
    effectiveAt: string;
  }[];
  decisions: DecisionView[];
}

export async function getAccount(
  store: Store,
  accountId: string,
  now: number,
): Promise<AccountDetail | null> {
  const row = await store.db
    .selectFrom("credit_lines")
    .selectAll()
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  if (row === undefined) return null;
  const changes = await store.db
    .selectFrom("line_changes")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("effective_at", "desc")
    .limit(50)
    .execute();
  const decisions = await listDecisions(store, accountId, { adverseOrChange: true, limit: 20 });
  return {
    ...summary(row),
    openedAt: iso(row.opened_at) as string,
    features: readFeatures(
      decodeFeatureState(row.features),
      { limit: row.limit_amount, balance: row.balance },
      now,
    ),
    changes: changes.map((c) => ({
      decisionId: c.decision_id,
      fromLimit: c.from_limit,
      toLimit: c.to_limit,
      fromStatus: c.from_status,
      toStatus: c.to_status,
      effectiveAt: iso(c.effective_at) as string,
    })),
    decisions,
  };
}

export async function listDecisions(
  store: Store,
  accountId: string,
  filter: { adverseOrChange?: boolean; limit: number },
): Promise<DecisionView[]> {
  let query = store.db
    .selectFrom("decisions")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("decided_at", "desc")
    .orderBy("id")
    .limit(Math.min(filter.limit, MAX_PAGE));
  if (filter.adverseOrChange === true) query = query.where("action", "!=", "none");
  return (await query.execute()).map(decisionView);
}

export interface DecisionRecord extends DecisionView {
  input: DecisionInput;
  output: Decision;
}

export async function getDecision(store: Store, decisionId: string): Promise<DecisionRecord | null> {
  const row = await store.db
    .selectFrom("decisions")
    .selectAll()
    .where("id", "=", decisionId)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    ...decisionView(row),
    input: JSON.parse(row.input) as DecisionInput,
    output: JSON.parse(row.output) as Decision,
  };
}

export async function listNotices(store: Store, accountId: string, limit: number) {
  const rows = await store.db
    .selectFrom("outbox")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("created_at", "desc")
    .limit(Math.min(limit, MAX_PAGE))
    .execute();
  return rows.map((r) => ({
    noticeId: r.id,
    kind: r.kind,
    status: r.status,
    attempts: r.attempts,
    createdAt: iso(r.created_at) as string,
    deliveredAt: iso(r.delivered_at),
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  }));
}
