import { sql, type Transaction } from "kysely";
import type { Fen } from "../engine/money.ts";
import type { Store } from "../store/connect.ts";
import type { BudgetTable, Database } from "../store/schema.ts";

export type BudgetMeasure = "limit" | "balance";
export type ScopeKind = "total" | "region" | "segment" | "product";

/** Where a line sits in the portfolio: what budgets it counts in. */
export interface LineScope {
  accountId: string;
  region: string;
  segment: string;
}

/** The scope name shown to people: total, region:east, segment:gig, product:consumer-revolving. */
export const scopeName = (b: Pick<BudgetTable, "scope_kind" | "scope_value">) =>
  b.scope_kind === "total" ? "total" : `${b.scope_kind}:${b.scope_value}`;

/** Whether a budget covers a line; the usage triggers (budgetMigration.ts) use the same rule. */
export function covers(
  b: Pick<BudgetTable, "scope_kind" | "scope_value">,
  line: Pick<LineScope, "region" | "segment">,
): boolean {
  switch (b.scope_kind) {
    case "region":
      return b.scope_value === line.region;
    case "segment":
      return b.scope_value === line.segment;
    default:
      return true;
  }
}

/**
 * Locks the budgets that lines of these scopes count in, in id order, on PostgreSQL. Every writer
 * does this right after locking its lines, so two transactions can never both see the same room
 * and both spend it, and budget rows are always taken in one order (no deadlock among them).
 * SQLite has one writer at a time, which is the same guarantee.
 */
export async function lockBudgets(
  trx: Transaction<Database>,
  store: Store,
  scopes: Iterable<LineScope>,
): Promise<void> {
  if (store.dialect !== "postgres") return;
  const regions = new Set<string>();
  const segments = new Set<string>();
  for (const s of scopes) {
    regions.add(s.region);
    segments.add(s.segment);
  }
  if (regions.size === 0) return;
  await trx
    .selectFrom("budgets")
    .select("id")
    .where((eb) =>
      eb.or([
        eb("scope_kind", "in", ["total", "product"]),
        eb.and([eb("scope_kind", "=", "region"), eb("scope_value", "in", [...regions])]),
        eb.and([eb("scope_kind", "=", "segment"), eb("scope_value", "in", [...segments])]),
      ]),
    )
    .orderBy("id")
    .forUpdate()
    .execute();
}

/**
 * What waits in the budget queue: an ordinary increase, an appeal's reversal (a reviewer found a
 * cut, freeze or closure wrong and gives the limit back) or a plan's reopening (the borrower met
 * their rebuilding plan).
 */
export type QueueKind = "increase" | "reversal" | "reopen";

/**
 * Restorations go first: a reversal gives back a limit the borrower already had, so it comes
 * before everything; a reopening the borrower earned comes next; ordinary increases last.
 */
const RANK: Record<QueueKind, number> = { reversal: 0, reopen: 1, increase: 2 };

/** The ranks as SQL over budget_queue, for listing it in the order `ahead` gives. */
export const queueRank = sql<number>`case kind when 'reversal' then 0 when 'reopen' then 1 else 2 end`;
/** Risk-adjusted order applies to ordinary increases only; restorations wait by arrival. */
export const queuePd = sql<number>`case when kind = 'increase' then pd else 0 end`;

/**
 * Priority of a waiting request: restorations before increases; among increases lower PD first
 * (risk-adjusted), among restorations the earlier first; then earlier, then account id.
 */
export interface QueuePriority {
  kind: QueueKind;
  pd: number;
  requestedAt: number;
  accountId: string;
  /** A reversal's appeal: one account may wait on several reversals, each its own entry. */
  ref?: string | null;
}

export function ahead(a: QueuePriority, b: QueuePriority): boolean {
  if (RANK[a.kind] !== RANK[b.kind]) return RANK[a.kind] < RANK[b.kind];
  if (a.kind === "increase" && a.pd !== b.pd) return a.pd < b.pd;
  if (a.requestedAt !== b.requestedAt) return a.requestedAt < b.requestedAt;
  return a.accountId < b.accountId;
}

/** An entry's identity in the queue: one waiting increase and one reopening per account. */
export const queueKey = (p: Pick<QueuePriority, "kind" | "accountId" | "ref">) =>
  p.kind === "reversal" ? `reversal:${p.accountId}:${p.ref ?? ""}` : `${p.kind}:${p.accountId}`;

interface Waiting extends QueuePriority, LineScope {}

export type Admission = { ok: true } | { ok: false; budget: string; room: Fen };

/**
 * The budgets as one transaction sees them (their rows locked by lockBudgets), plus what the
 * transaction has spent so far. Spending is counted when granted; room freed by cuts and
 * repayments in the same transaction is only counted once committed, so a check can err on the
 * safe side but never let the caps be passed.
 */
export class BudgetBook {
  private readonly spent = new Map<string, Fen>();

  private constructor(
    private readonly budgets: readonly BudgetTable[],
    private readonly waiting: Map<string, Waiting>,
  ) {}

  static async open(trx: Transaction<Database>): Promise<BudgetBook> {
    const budgets = await trx.selectFrom("budgets").selectAll().orderBy("id").execute();
    const waiting = new Map<string, Waiting>();
    if (budgets.length > 0) {
      const rows = await trx
        .selectFrom("budget_queue")
        .innerJoin("credit_lines", "credit_lines.account_id", "budget_queue.account_id")
        .select([
          "budget_queue.account_id",
          "budget_queue.kind",
          "budget_queue.ref_id",
          "budget_queue.pd",
          "budget_queue.requested_at",
          "credit_lines.region",
          "credit_lines.segment",
        ])
        .where("budget_queue.status", "=", "waiting")
        .execute();
      for (const r of rows) {
        const entry: Waiting = {
          kind: r.kind as QueueKind,
          ref: r.ref_id,
          accountId: r.account_id,
          pd: r.pd,
          requestedAt: r.requested_at,
          region: r.region,
          segment: r.segment,
        };
        waiting.set(queueKey(entry), entry);
      }
    }
    return new BudgetBook(budgets, waiting);
  }

  get isEmpty(): boolean {
    return this.budgets.length === 0;
  }

  /** When the account already waits, its place (the earliest request keeps its arrival time). */
  waitingSince(accountId: string, kind: Exclude<QueueKind, "reversal"> = "increase"): number | null {
    return this.waiting.get(queueKey({ kind, accountId }))?.requestedAt ?? null;
  }

  /** Spends `amount` of the measure for this line if every budget covering it has the room. */
  spend(line: LineScope, measure: BudgetMeasure, amount: Fen): Admission {
    if (amount <= 0) return { ok: true };
    const covering = this.budgets.filter((b) => b.measure === measure && covers(b, line));
    for (const b of covering) {
      const room = b.cap - b.used - (this.spent.get(b.id) ?? 0);
      if (room < amount) return { ok: false, budget: scopeName(b), room: Math.max(0, room) };
    }
    for (const b of covering) this.spent.set(b.id, (this.spent.get(b.id) ?? 0) + amount);
    return { ok: true };
  }

  /**
   * An increase (or a restoration) is granted when nothing ahead of it waits on a budget they
   * share, and the budgets have room: when a budget is tight, requests go by priority, not by
   * arrival. A restoration is ahead of every ordinary increase, so it may take the last room.
   */
  admitIncrease(line: LineScope, priority: QueuePriority, amount: Fen): Admission {
    const covering = this.budgets.filter((b) => b.measure === "limit" && covers(b, line));
    if (covering.length === 0) return { ok: true };
    const own = queueKey(priority);
    for (const w of this.waiting.values()) {
      if (queueKey(w) === own || !ahead(w, priority)) continue;
      const shared = covering.find((b) => covers(b, w));
      if (shared !== undefined) return { ok: false, budget: scopeName(shared), room: 0 };
    }
    return this.spend(line, "limit", amount);
  }

  /** The entry no longer waits (granted, lapsed or queued again under a new request). */
  settle(entry: Pick<QueuePriority, "kind" | "accountId" | "ref">): void {
    this.waiting.delete(queueKey(entry));
  }

  enqueue(entry: QueuePriority & LineScope): void {
    this.waiting.set(queueKey(entry), entry);
  }
}
