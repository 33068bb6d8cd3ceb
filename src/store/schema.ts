import type { Generated } from "kysely";

/**
 * One schema for SQLite and PostgreSQL. Money is integer fen (bigint), times are epoch
 * milliseconds (bigint), flags are 0/1 integers and documents are JSON text, so both dialects
 * store and return the same values.
 */
export interface BorrowerTable {
  id: string;
  region: string;
  segment: string;
  declared_income: number;
  consent_bureau: number;
  opt_out_automated: number;
  created_at: number;
}

export interface CreditLineTable {
  account_id: string;
  borrower_id: string;
  region: string;
  segment: string;
  status: string;
  limit_amount: number;
  balance: number;
  opened_at: number;
  last_change_at: number | null;
  /** JSON [{at, limit}] of the limits held in the last 30 days, for the max-cut guardrail. */
  recent_limits: string;
  pending_decision_id: string | null;
  pending_action: string | null;
  /** The incrementally maintained feature state (JSON), kept on the line so one row holds an account. */
  features: string;
  updated_at: number;
  /** JSON LineRateTerms: the rate new drawdowns are priced at, and an announced increase; null until first priced. */
  rate_terms: string | null;
}

export interface LineChangeTable {
  id: string;
  account_id: string;
  decision_id: string;
  from_limit: number;
  to_limit: number;
  from_status: string;
  to_status: string;
  effective_at: number;
  recorded_at: number;
}

export interface EventTable {
  event_id: string;
  account_id: string;
  type: string;
  occurred_at: number;
  recorded_at: number;
  payload: string;
}

/** A drawdown the line refused; a replay of it is a duplicate, not judged again. */
export interface RefusedEventTable {
  account_id: string;
  event_id: string;
  reason: string;
  occurred_at: number;
  recorded_at: number;
}

export interface DecisionTable {
  id: string;
  idempotency_key: string;
  account_id: string;
  trigger_kind: string;
  action: string;
  rule_id: string | null;
  adverse: number;
  /** applied | scheduled | pending_review | no_change | cancelled */
  status: string;
  from_limit: number;
  to_limit: number;
  from_status: string;
  to_status: string;
  score: number;
  decided_at: number;
  effective_at: number;
  recorded_at: number;
  policy_version: string;
  model_version: string;
  input: string;
  output: string;
}

export interface LedgerTable {
  seq: number;
  kind: string;
  ref_id: string;
  body_hash: string;
  prev_hash: string;
  hash: string;
  recorded_at: number;
}

export interface LedgerHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface OutboxTable {
  id: string;
  idempotency_key: string;
  account_id: string;
  kind: string;
  payload: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

/** A drawdown as priced when it was drawn: the rate, why, and its repayment schedule. */
export interface DrawdownTable {
  id: string;
  account_id: string;
  event_id: string;
  amount: number;
  /** Annual rate in basis points. */
  rate_bps: number;
  rate_basis: string;
  pricing_product: string;
  policy_version: string;
  repayment: string;
  term_months: number;
  total_interest: number;
  drawn_at: number;
  recorded_at: number;
}

/** A model version in the registry, with everything needed to score and to judge it. */
export interface ModelVersionTable {
  version: string;
  kind: string;
  /** draft | validated | approved | active | challenger | retired */
  state: string;
  author: string;
  approved_by: string | null;
  artifact: string;
  training_summary: string;
  validation_report: string;
  created_at: number;
  updated_at: number;
}

/** One lifecycle step of a model version, sealed in the ledger. */
export interface ModelTransitionTable {
  id: string;
  version: string;
  from_state: string;
  to_state: string;
  actor: string;
  reason: string;
  at: number;
}

/** A hardship program an analyst offered to a region and/or segment, for a fixed period. */
export interface HardshipProgramTable {
  id: string;
  name: string;
  relief: string;
  region: string | null;
  segment: string | null;
  starts_at: number;
  ends_at: number;
  created_by: string;
  reason: string;
  created_at: number;
  /** JSON Condition[] on features a line must meet to be offered the program; null: none. */
  eligibility: string | null;
}

/** One borrower's offer: offered, then accepted or declined (sealed when answered). */
export interface HardshipOfferTable {
  id: string;
  program_id: string;
  account_id: string;
  status: string;
  responded_at: number | null;
  created_at: number;
}

/** A drawdown's schedule after relief, sealed; the original schedule stays as it was drawn. */
export interface DrawdownRescheduleTable {
  id: string;
  drawdown_id: string;
  offer_id: string;
  schedule: string;
  at: number;
}

/** A stored simulation: what a candidate policy/model would do to the book as of a date. */
export interface SimulationReportTable {
  id: string;
  candidate_policy: string;
  candidate_model: string;
  as_of: number;
  /** book (the lines as they were) | replay (rebuilt from the history as of as_of); 0018_sandbox. */
  mode: string;
  /** sha256 of the candidate policy's content, to match a report to the exact version approved. */
  policy_hash: string | null;
  /** JSON of the what-if measures the candidate ran under; null for none (0021_simulation_what_if). */
  what_if: string | null;
  accounts: number;
  hits: number;
  report: string;
  created_by: string;
  created_at: number;
}

export interface JobCursorTable {
  job: string;
  cursor: string;
  updated_at: number;
}

/** A policy document as imported: its YAML is the source of truth; status moves draft -> approved. */
export interface PolicyVersionTable {
  version: string;
  yaml: string;
  author: string;
  created_at: number;
  status: string;
  approved_by: string | null;
  approved_at: number | null;
}

/**
 * Which policy versions decide: the latest row is in force. Rollback appends the previous row
 * again, so the history of what decided when is never rewritten.
 */
export interface PolicyDeploymentTable {
  seq: number;
  champion: string;
  challenger: string | null;
  /** Share of accounts (by a hash of the account id) the challenger decides, 0..1. */
  challenger_share: number;
  /** JSON array of shadow versions: decided and recorded, never acted on. */
  shadows: string;
  activated_by: string;
  activated_at: number;
}

/** A decision a shadow policy version would have made: recorded for comparison, never applied. */
export interface ShadowDecisionTable {
  id: string;
  account_id: string;
  policy_version: string;
  run_id: string;
  action: string;
  rule_id: string | null;
  from_limit: number;
  to_limit: number;
  decided_at: number;
  /** 1 when the class-wide measures made it: without them it would not have been taken, or not as far. */
  class_wide: number;
}

export interface Database {
  borrowers: BorrowerTable;
  credit_lines: CreditLineTable;
  line_changes: LineChangeTable;
  events: EventTable;
  refused_events: RefusedEventTable;
  decisions: DecisionTable;
  ledger: LedgerTable;
  ledger_head: LedgerHeadTable;
  outbox: OutboxTable;
  job_cursors: JobCursorTable;
  policy_versions: PolicyVersionTable;
  policy_deployments: PolicyDeploymentTable;
  shadow_decisions: ShadowDecisionTable;
  drawdowns: DrawdownTable;
  decision_recourse: DecisionRecourseTable;
  appeals: AppealTable;
  appeal_evidence: AppealEvidenceTable;
  rebuilding_plans: RebuildingPlanTable;
  notice_deliveries: NoticeDeliveryTable;
  model_versions: ModelVersionTable;
  model_transitions: ModelTransitionTable;
  hardship_programs: HardshipProgramTable;
  hardship_offers: HardshipOfferTable;
  drawdown_reschedules: DrawdownRescheduleTable;
  simulation_reports: SimulationReportTable;
  budgets: BudgetTable;
  budget_changes: BudgetChangeTable;
  budget_queue: BudgetQueueTable;
  risk_settings: RiskSettingTable;
  ledger_checkpoints: LedgerCheckpointTable;
  api_keys: ApiKeyTable;
  users: UserTable;
  sessions: SessionTable;
  api_actions: ApiActionTable;
  borrower_keys: BorrowerKeyTable;
  borrower_personal_data: BorrowerPersonalDataTable;
  rate_changes: RateChangeTable;
  fees: FeeTable;
}

/** A fee charged to a line (added to its balance), sealed in the ledger. */
export interface FeeTable {
  id: string;
  account_id: string;
  /** over_limit */
  kind: string;
  amount: number;
  cause_decision_id: string | null;
  charged_at: number;
}

/** A change of a line's rate; its decision (same transaction) carries status, notice and appeal. */
export interface RateChangeTable {
  id: string;
  decision_id: string;
  account_id: string;
  from_rate_bps: number;
  to_rate_bps: number;
  /** JSON LineRate before and after. */
  from_terms: string;
  to_terms: string;
  created_at: number;
}

export interface DecisionRecourseTable {
  id: string;
  decision_id: string;
  account_id: string;
  /** keep | reopen */
  goal: string;
  available: number;
  /** The Recourse JSON: plan, steps, date, promised outcome, zh-CN and en text. */
  recourse: string;
  /** The feature state the decision read (JSON). */
  state: string;
  by_at: number;
  created_at: number;
}

export interface AppealTable {
  id: string;
  idempotency_key: string;
  account_id: string;
  decision_id: string;
  /** appeal | opt_out */
  kind: string;
  statement: string;
  /** open | upheld | reversed | adjusted */
  status: string;
  /** 1 when the appeal held a noticed action that had not yet taken effect. */
  paused_action: number;
  filed_at: number;
  deadline_at: number;
  reviewer: string | null;
  outcome_reason: string | null;
  outcome_limit: number | null;
  decided_at: number | null;
}

export interface AppealEvidenceTable {
  id: string;
  appeal_id: string;
  /** income_proof | bank_statement | other */
  kind: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  content: string;
  uploaded_at: number;
}

export interface RebuildingPlanTable {
  id: string;
  account_id: string;
  decision_id: string;
  /** active | reopened | ended */
  status: string;
  plan: string;
  checkpoints: string;
  target_limit: number;
  created_at: number;
  completed_at: number | null;
  outcome: string | null;
}

export interface NoticeDeliveryTable {
  notice_id: string;
  channel: string;
  delivered_at: number;
}

/** A Merkle root over ledger rows from_seq..to_seq, chained to the checkpoint before it. */
export interface LedgerCheckpointTable {
  id: number;
  from_seq: number;
  to_seq: number;
  root: string;
  prev_hash: string;
  hash: string;
  created_at: number;
}

/** An integration's API key; only the SHA-256 of the secret is kept. */
export interface ApiKeyTable {
  id: string;
  key_hash: string;
  name: string;
  role: string;
  /** Set when the key acts for one borrower (role borrower). */
  borrower_id: string | null;
  created_at: number;
  revoked_at: number | null;
}

/** A console user; password_hash is scrypt `salt:hash` (hex). */
export interface UserTable {
  username: string;
  password_hash: string;
  role: string;
  borrower_id: string | null;
  created_at: number;
}

export interface SessionTable {
  token_hash: string;
  username: string;
  created_at: number;
  expires_at: number;
}

/** A write a principal made through the API; sealed in the ledger as kind api_action. */
export interface ApiActionTable {
  id: string;
  principal: string;
  role: string;
  method: string;
  /** The route pattern, e.g. /v1/appeals/:appealId/decision; params holds the values (JSON). */
  route: string;
  params: string;
  status: number;
  at: number;
}

/** A borrower's data key, wrapped (AES-256-GCM) by the master key named by master_key_id. */
export interface BorrowerKeyTable {
  borrower_id: string;
  /** null once destroyed (erasure). */
  wrapped_key: string | null;
  master_key_id: string;
  created_at: number;
  destroyed_at: number | null;
}

/** Name, phone, ID number and bank account as JSON, encrypted under the borrower's data key. */
export interface BorrowerPersonalDataTable {
  borrower_id: string;
  ciphertext: string;
  updated_at: number;
}

export type { Generated };

/** An exposure budget: a cap on committed (limit) or drawn (balance) credit over a scope. */
export interface BudgetTable {
  id: string;
  /** total | region | segment | product */
  scope_kind: string;
  scope_value: string;
  /** limit | balance */
  measure: string;
  cap: number;
  /** Kept by triggers on credit_lines: the sum of the measure over the lines the budget covers. */
  used: number;
  updated_at: number;
}

export interface BudgetChangeTable {
  id: string;
  budget_id: string;
  /** set | remove */
  action: string;
  cap_before: number | null;
  cap_after: number | null;
  actor: string;
  reason: string;
  at: number;
}

/** An increase waiting for budget room, granted by priority (lowest PD first), not by arrival. */
export interface BudgetQueueTable {
  id: string;
  account_id: string;
  decision_id: string;
  from_limit: number;
  requested_limit: number;
  pd: number;
  requested_at: number;
  /** waiting | granted | lapsed */
  status: string;
  settled_at: number | null;
  settled_decision_id: string | null;
  /** increase | reversal (an appeal's reversal) | reopen (a plan's reopening); budgetBook.ts ranks them. */
  kind: string;
  /** For a reversal: the appeal it carries out. */
  ref_id: string | null;
  /** For a reversal: the status it gives the line back. */
  to_status: string | null;
}

/** An analyst's regional risk factor or portfolio stress multiplier; the latest per key is in force. */
export interface RiskSettingTable {
  id: string;
  /** region | stress */
  kind: string;
  region: string | null;
  factor: number;
  actor: string;
  reason: string;
  at: number;
}
