import type { Transaction } from "kysely";
import type { Decision, DecisionInput, LineStatus } from "../engine/decide.ts";
import { bodyHash, chainHash, type LedgerEntry } from "../engine/ledger.ts";
import { formatYuan } from "../engine/money.ts";
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
import { borrowerNotice } from "./appealsNotices.ts";
import { type BudgetBook, type QueueKind, type QueuePriority, queueKey } from "./budgetBook.ts";
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
  /** An increase or reopening waiting in the budget queue for room (budgetQueue.ts grants it). */
  | "queued";

/** A raise of a line's limit that must fit the exposure budgets: an increase or a restoration. */
export interface Raise {
  kind: QueueKind;
  /** A reversal's appeal. */
  ref?: string | null;
  /** The decision behind it (for a reversal, the decision the appeal reversed). */
  decisionId: string;
  pd: number;
  /** When it was asked for; an account already waiting keeps its earlier place. */
  at: number;
  toLimit: number;
  /** For a reversal: the status it gives the line back. */
  toStatus?: string | null;
}

/** A queue entry this set settles: granted (with the decision that did it) or lapsed. */
interface QueueSettlement extends Pick<QueuePriority, "kind" | "accountId" | "ref"> {
  status: "granted" | "lapsed";
  decisionId: string | null;
}

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
  /** Raises joining the budget queue, and the earlier waits this set settles. */
  readonly queued: BudgetQueueTable[] = [];
  private readonly queueSettled = new Map<string, QueueSettlement>();
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
    const raises = decision.action === "increase" || decision.action === "reopen";
    if (
      status === "applied" &&
      raises &&
      decision.toLimit > line.row.limit_amount &&
      !this.admitRaise(
        line,
        {
          kind: decision.action === "reopen" ? "reopen" : "increase",
          decisionId: id,
          pd: decision.pd,
          at: decision.decidedAt,
          toLimit: decision.toLimit,
        },
        budget,
      )
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
    // A queued reopening is announced like a scheduled change: the line holds other changes
    // (but urgent ones) until the queue grants it, and the borrower is told it is on its way.
    const queuedReopen = status === "queued" && decision.action === "reopen";
    if (status === "scheduled" || status === "pending_review" || queuedReopen) {
      line.row.pending_decision_id = id;
      line.row.pending_action = decision.action;
      line.lineChanged = true;
    }
    if (queuedReopen) this.outbox.push(reopenQueuedNotice(row, this.recordedAt));
    if (status !== "no_change" && status !== "queued")
      this.notify(line, row, status === "applied" ? "line_changed" : status, decision);
    return row;
  }

  /**
   * A raise spends exposure budget in this transaction, or joins the queue (keeping the account's
   * earlier place if it already waited) when the budget is tight. `spent`: the budget queue
   * already spent the room for it (budgetQueue.ts). Returns whether it may go ahead now.
   */
  admitRaise(line: LineRecord, raise: Raise, budget: "admit" | "spent" = "admit"): boolean {
    const book = this.budgets;
    if (book === undefined || book.isEmpty) return true;
    const accountId = line.row.account_id;
    const scope = { accountId, region: line.row.region, segment: line.row.segment };
    const since = raise.kind === "reversal" ? null : book.waitingSince(accountId, raise.kind);
    const place = {
      kind: raise.kind,
      ref: raise.ref ?? null,
      pd: raise.pd,
      requestedAt: since ?? raise.at,
      accountId,
    };
    const admitted =
      budget === "spent" || book.admitIncrease(scope, place, raise.toLimit - line.row.limit_amount).ok;
    if (admitted) {
      if (since !== null) this.settleQueued(place, "granted", raise.decisionId);
      book.settle(place);
      return true;
    }
    if (since !== null) this.settleQueued(place, "lapsed", raise.decisionId);
    book.enqueue({ ...scope, ...place });
    this.queued.push({
      id: deterministicId(
        "bq",
        raise.kind === "increase" ? raise.decisionId : `${raise.kind}:${raise.decisionId}`,
      ),
      account_id: accountId,
      decision_id: raise.decisionId,
      from_limit: line.row.limit_amount,
      requested_limit: raise.toLimit,
      pd: place.pd,
      requested_at: place.requestedAt,
      status: "waiting",
      settled_at: null,
      settled_decision_id: null,
      kind: raise.kind,
      ref_id: place.ref,
      to_status: raise.toStatus ?? null,
    });
    return false;
  }

  /** Settles a waiting queue entry: granted (by `decisionId`) or lapsed. */
  settleQueued(
    entry: Pick<QueuePriority, "kind" | "accountId" | "ref">,
    status: "granted" | "lapsed",
    decisionId: string | null,
  ): void {
    this.queueSettled.set(queueKey(entry), {
      kind: entry.kind,
      accountId: entry.accountId,
      ref: entry.ref ?? null,
      status,
      decisionId,
    });
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

  async flush(trx: Transaction<Database>, store: Store): Promise<void> {
    await insertRows(trx, store.dialect, "decisions", this.decisions);
    await insertRows(trx, store.dialect, "line_changes", this.lineChanges);
    const noticeSeals = await writeNotices(trx, store.dialect, this.outbox);
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
    for (const settled of this.queueSettled.values()) {
      let update = trx
        .updateTable("budget_queue")
        .set({ status: settled.status, settled_at: this.recordedAt, settled_decision_id: settled.decisionId })
        .where("account_id", "=", settled.accountId)
        .where("kind", "=", settled.kind)
        .where("status", "=", "waiting");
      if (settled.kind === "reversal") update = update.where("ref_id", "=", settled.ref ?? "");
      await update.execute();
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

/** The borrower's plan is met and the reopening approved, but it waits for budget room. */
function reopenQueuedNotice(decision: DecisionTable, at: number): OutboxTable {
  const limit = formatYuan(decision.to_limit);
  return borrowerNotice(
    decision.account_id,
    "reopen_queued",
    decision.id,
    {
      decisionId: decision.id,
      limit: decision.to_limit,
      en: `Your line's reopening is approved with a limit of ${limit} yuan. The credit budget it counts in is fully used just now, so your reopening waits, ahead of ordinary limit increases, and takes effect as soon as room frees; we will tell you when it does.`,
      zh: `您的额度重新开通已获批准，额度为${limit}元。由于您所在的信贷预算目前已用满，重新开通将优先于普通提额排队等候，一有额度空间即生效，届时我们会通知您。`,
    },
    at,
  );
}

/** Appends seals to the hash chain. The head row is locked so concurrent writers queue, never fork. */
export async function appendToLedger(
  trx: Transaction<Database>,
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
