import type { Kysely, Transaction } from "kysely";
import type { Decision, DecisionInput, LineStatus } from "../engine/decide.ts";
import { bodyHash, chainHash, type LedgerEntry } from "../engine/ledger.ts";
import type { Store } from "../store/connect.ts";
import { insertRows } from "../store/rowInserts.ts";
import type {
  ApiActionTable,
  BudgetQueueTable,
  Database,
  DecisionRecourseTable,
  DecisionTable,
  DrawdownTable,
  LineChangeTable,
  OutboxTable,
  RateChangeTable,
} from "../store/schema.ts";
import { ROWS_PER_STATEMENT } from "../store/shapedStatements.ts";
import type { BudgetBook } from "./budgetBook.ts";
import { classWideNotice } from "./classMeasures.ts";
import type { ActiveEngine } from "./engineConfig.ts";
import { deterministicId } from "./ids.ts";
import { applyToLine, type LineRecord } from "./lineBook.ts";
import { writeNotices } from "./outbox.ts";
import { recourseBodyHash, recourseNotice, recourseRow } from "./recourseRecords.ts";

export type DecisionStatus =
  | "applied"
  | "scheduled"
  | "pending_review"
  | "no_change"
  | "cancelled"
  /** An increase waiting in the budget queue for room (budgetQueue.ts grants it by priority). */
  | "queued";

/** A record to seal in the ledger: its kind, its id and the hash of its body. */
export interface Sealed {
  kind: string;
  refId: string;
  bodyHash: string;
}

/**
 * The seal covers everything decided; the status (scheduled -> applied) moves later and is
 * evidenced by its own sealed line change instead.
 */
export function decisionBodyHash(d: DecisionTable): string {
  return bodyHash([
    d.id,
    d.idempotency_key,
    d.account_id,
    d.action,
    d.from_limit,
    d.to_limit,
    d.from_status,
    d.to_status,
    d.decided_at,
    d.effective_at,
    d.policy_version,
    d.model_version,
    d.input,
    d.output,
  ]);
}

export function lineChangeBodyHash(c: LineChangeTable): string {
  return bodyHash([
    c.id,
    c.account_id,
    c.decision_id,
    c.from_limit,
    c.to_limit,
    c.from_status,
    c.to_status,
    c.effective_at,
  ]);
}

export function drawdownBodyHash(d: DrawdownTable): string {
  return bodyHash([
    d.id,
    d.account_id,
    d.amount,
    d.rate_bps,
    d.rate_basis,
    d.pricing_product,
    d.policy_version,
    d.repayment,
    d.term_months,
    d.total_interest,
    d.drawn_at,
  ]);
}

/** What a notice says beyond the decision row: reasons, a recall, and a rate change's rates. */
export type NoticeDetail = Pick<Decision, "reasons" | "recall" | "classWide"> & {
  rate?: { from: number; to: number };
};

/**
 * Everything one transaction will write, collected in memory and flushed with multi-row
 * statements: the decision records, the line changes, their ledger seals and the notices.
 */
export class WriteSet {
  readonly decisions: DecisionTable[] = [];
  readonly lineChanges: LineChangeTable[] = [];
  readonly outbox: OutboxTable[] = [];
  readonly drawdowns: DrawdownTable[] = [];
  /** Recourse promised with each adverse decision, keyed by decision id. */
  readonly recourse = new Map<string, DecisionRecourseTable>();
  /** Increases joining the budget queue, and accounts whose earlier wait this set settles. */
  readonly queued: BudgetQueueTable[] = [];
  readonly queueSettled = new Map<string, { status: "granted" | "lapsed"; decisionId: string | null }>();
  /** Changes of lines' rates (rateChanges.ts), beside their decisions. */
  readonly rateChanges: RateChangeTable[] = [];
  /** Announced decisions withdrawn before they took effect (a rate rise no longer priced). */
  readonly withdrawn: string[] = [];
  /** Who asked for these writes, when a request's record commits with its effects (actionLog.ts). */
  readonly apiActions: ApiActionTable[] = [];
  private readonly sealed: Sealed[] = [];

  /** `budgets`: the exposure budgets increases must fit in; without it, increases are not capped. */
  constructor(
    readonly engine: ActiveEngine,
    readonly recordedAt: number,
    private readonly budgets?: BudgetBook,
  ) {}

  /**
   * Records a decision and carries it out: applied now, scheduled after notice, or held for a
   * reviewer. Notices go to the outbox in the same transaction.
   */
  record(
    line: LineRecord,
    input: DecisionInput,
    decision: Decision,
    idempotencyKey: string,
    /** "spent": the budget queue already spent the room for this increase (budgetQueue.ts). */
    budget: "admit" | "spent" = "admit",
  ): DecisionTable {
    const id = deterministicId("dec", idempotencyKey);
    let status: DecisionStatus;
    if (decision.action === "none") status = "no_change";
    else if (decision.requiresReview) status = "pending_review";
    else if (decision.effectiveAt > decision.decidedAt) status = "scheduled";
    else status = "applied";
    if (
      status === "applied" &&
      decision.action === "increase" &&
      !this.admitIncrease(line, decision, id, budget)
    )
      status = "queued";
    const row: DecisionTable = {
      id,
      idempotency_key: idempotencyKey,
      account_id: decision.accountId,
      trigger_kind: input.trigger.kind,
      action: decision.action,
      rule_id: decision.ruleId,
      adverse: decision.adverse ? 1 : 0,
      status,
      from_limit: decision.fromLimit,
      to_limit: decision.toLimit,
      from_status: decision.fromStatus,
      to_status: decision.toStatus,
      score: decision.score,
      decided_at: decision.decidedAt,
      effective_at: decision.effectiveAt,
      recorded_at: this.recordedAt,
      policy_version: decision.policyVersion,
      model_version: this.engine.model.version,
      input: JSON.stringify(input),
      output: JSON.stringify(decision),
    };
    this.decisions.push(row);
    this.sealed.push({ kind: "decision", refId: id, bodyHash: decisionBodyHash(row) });
    if (decision.adverse)
      this.addRecourse(id, recourseRow(id, input, decision, line.state, this.engine, this.recordedAt));
    if (status === "applied") this.applyDecision(line, row);
    if (status === "scheduled" || status === "pending_review") {
      line.row.pending_decision_id = id;
      line.row.pending_action = decision.action;
      line.lineChanged = true;
    }
    if (status !== "no_change" && status !== "queued")
      this.notify(line, row, status === "applied" ? "line_changed" : status, decision);
    return row;
  }

  /**
   * An increase spends exposure budget in this transaction, or joins the queue (keeping the
   * account's earlier place if it already waited) when the budget is tight.
   */
  private admitIncrease(
    line: LineRecord,
    decision: Decision,
    decisionId: string,
    budget: "admit" | "spent",
  ): boolean {
    const book = this.budgets;
    if (book === undefined || book.isEmpty) return true;
    const accountId = line.row.account_id;
    const scope = { accountId, region: line.row.region, segment: line.row.segment };
    const place = {
      pd: decision.pd,
      requestedAt: book.waitingSince(accountId) ?? decision.decidedAt,
      accountId,
    };
    const admitted =
      budget === "spent" || book.admitIncrease(scope, place, decision.toLimit - decision.fromLimit).ok;
    const waited = book.waitingSince(accountId) !== null;
    if (admitted) {
      if (waited) this.queueSettled.set(accountId, { status: "granted", decisionId });
      book.settle(accountId);
      return true;
    }
    if (waited) this.queueSettled.set(accountId, { status: "lapsed", decisionId });
    book.enqueue({ ...scope, pd: place.pd, requestedAt: place.requestedAt });
    this.queued.push({
      id: deterministicId("bq", decisionId),
      account_id: accountId,
      decision_id: decisionId,
      from_limit: decision.fromLimit,
      requested_limit: decision.toLimit,
      pd: place.pd,
      requested_at: place.requestedAt,
      status: "waiting",
      settled_at: null,
      settled_decision_id: null,
    });
    return false;
  }

  /** Applies a recorded decision to its line now (at once, or when its notice period has run). */
  applyDecision(line: LineRecord, decision: DecisionTable): void {
    const at = Math.max(decision.effective_at, decision.decided_at);
    const from = { limit: line.row.limit_amount, status: line.row.status };
    const toStatus = decision.to_status as LineStatus;
    if (!applyToLine(line, { toLimit: decision.to_limit, toStatus }, at)) return;
    const change: LineChangeTable = {
      id: deterministicId("chg", decision.id),
      account_id: decision.account_id,
      decision_id: decision.id,
      from_limit: from.limit,
      to_limit: decision.to_limit,
      from_status: from.status,
      to_status: decision.to_status,
      effective_at: at,
      recorded_at: this.recordedAt,
    };
    this.lineChanges.push(change);
    this.sealed.push({ kind: "line_change", refId: change.id, bodyHash: lineChangeBodyHash(change) });
  }

  /** The recourse promised with an adverse decision, sealed beside it. */
  addRecourse(decisionId: string, recourse: DecisionRecourseTable): void {
    this.recourse.set(decisionId, recourse);
    this.seal("recourse", recourse.id, recourseBodyHash(recourse));
  }

  notify(line: LineRecord, decision: DecisionTable, kind: string, detail: NoticeDetail | null): void {
    const recourse = this.recourse.get(decision.id);
    const payload = {
      kind,
      accountId: decision.account_id,
      borrowerId: line.row.borrower_id,
      decisionId: decision.id,
      action: decision.action,
      fromLimit: decision.from_limit,
      toLimit: decision.to_limit,
      toStatus: decision.to_status,
      effectiveAt: new Date(decision.effective_at).toISOString(),
      reasons: detail?.reasons ?? [],
      recall: detail?.recall ?? false,
      recourse: recourse === undefined ? null : recourseNotice(recourse),
      classWide: detail?.classWide === undefined ? null : classWideNotice(detail.classWide, line.row.region),
      // A rate change tells the annual rates (bps) before and after.
      ...(detail?.rate === undefined ? {} : { fromRate: detail.rate.from, toRate: detail.rate.to }),
    };
    this.outbox.push({
      id: deterministicId("ntc", `${kind}:${decision.id}`),
      idempotency_key: `${kind}:${decision.id}`,
      account_id: decision.account_id,
      kind,
      payload: JSON.stringify(payload),
      status: "pending",
      attempts: 0,
      next_attempt_at: this.recordedAt,
      created_at: this.recordedAt,
      delivered_at: null,
      last_error: null,
    });
  }

  /** Seals a record written beside this set (appeal outcomes, plans) into the same ledger append. */
  seal(kind: string, refId: string, hash: string): void {
    this.sealed.push({ kind, refId, bodyHash: hash });
  }

  /** A drawdown with the rate and schedule it was priced at, sealed so neither can change later. */
  recordDrawdown(row: DrawdownTable): void {
    this.drawdowns.push(row);
    this.sealed.push({ kind: "drawdown", refId: row.id, bodyHash: drawdownBodyHash(row) });
  }

  isEmpty(): boolean {
    return (
      this.decisions.length === 0 &&
      this.lineChanges.length === 0 &&
      this.outbox.length === 0 &&
      this.drawdowns.length === 0 &&
      this.queued.length === 0 &&
      this.queueSettled.size === 0 &&
      this.withdrawn.length === 0 &&
      this.sealed.length === 0
    );
  }

  async flush(trx: Transaction<Database> | Kysely<Database>, store: Store): Promise<void> {
    await insertRows(trx, store.dialect, "decisions", this.decisions);
    await insertRows(trx, store.dialect, "line_changes", this.lineChanges);
    const noticeSeals = await writeNotices(trx, this.outbox);
    await insertRows(trx, store.dialect, "drawdowns", this.drawdowns);
    await insertRows(trx, store.dialect, "rate_changes", this.rateChanges);
    for (let i = 0; i < this.withdrawn.length; i += ROWS_PER_STATEMENT) {
      await trx
        .updateTable("decisions")
        .set({ status: "cancelled" })
        .where("id", "in", this.withdrawn.slice(i, i + ROWS_PER_STATEMENT))
        .where("status", "in", ["scheduled", "appealed", "pending_review"])
        .execute();
    }
    await insertRows(trx, store.dialect, "decision_recourse", [...this.recourse.values()]);
    for (const [accountId, settled] of this.queueSettled) {
      await trx
        .updateTable("budget_queue")
        .set({ status: settled.status, settled_at: this.recordedAt, settled_decision_id: settled.decisionId })
        .where("account_id", "=", accountId)
        .where("status", "=", "waiting")
        .execute();
    }
    await insertRows(trx, store.dialect, "budget_queue", this.queued);
    await insertRows(trx, store.dialect, "api_actions", this.apiActions);
    await appendToLedger(trx, store, [...this.sealed, ...noticeSeals], this.recordedAt);
  }

  /** The record of the request behind this transaction, sealed with its effects. */
  recordApiAction(row: ApiActionTable, bodyHash: string): void {
    this.apiActions.push(row);
    this.sealed.push({ kind: "api_action", refId: row.id, bodyHash });
  }
}

/** Appends seals to the hash chain. The head row is locked so concurrent writers queue, never fork. */
export async function appendToLedger(
  trx: Transaction<Database> | Kysely<Database>,
  store: Store,
  seals: readonly Sealed[],
  recordedAt: number,
): Promise<void> {
  if (seals.length === 0) return;
  let headQuery = trx.selectFrom("ledger_head").select(["seq", "hash"]).where("id", "=", 1);
  if (store.dialect === "postgres") headQuery = headQuery.forUpdate();
  const head = await headQuery.executeTakeFirstOrThrow();
  let seq = head.seq;
  let prevHash = head.hash;
  const rows = seals.map((s) => {
    seq += 1;
    const entry: LedgerEntry = {
      seq,
      kind: s.kind,
      refId: s.refId,
      bodyHash: s.bodyHash,
      prevHash,
      recordedAt,
    };
    const hash = chainHash(entry);
    prevHash = hash;
    return {
      seq,
      kind: s.kind,
      ref_id: s.refId,
      body_hash: s.bodyHash,
      prev_hash: entry.prevHash,
      hash,
      recorded_at: recordedAt,
    };
  });
  await insertRows(trx, store.dialect, "ledger", rows);
  await trx.updateTable("ledger_head").set({ seq, hash: prevHash }).where("id", "=", 1).execute();
}
