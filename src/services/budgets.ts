import { sql } from "kysely";
import { REGIONS, SEGMENTS } from "../engine/events.ts";
import { bodyHash } from "../engine/ledger.ts";
import type { Fen } from "../engine/money.ts";
import type { Store } from "../store/connect.ts";
import type { BudgetChangeTable, BudgetTable } from "../store/schema.ts";
import {
  type BudgetMeasure,
  covers,
  type QueueKind,
  queuePd,
  queueRank,
  type ScopeKind,
  scopeName,
} from "./budgetBook.ts";
import { drainBudgetQueue } from "./budgetQueue.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { appendToLedger } from "./writeSet.ts";

/** A request the budgets cannot take as it stands (unknown scope, missing budget). */
export class BudgetError extends Error {}

export interface BudgetSpec {
  scope: ScopeKind;
  /** The region, segment or product; absent for the total. */
  value?: string;
  measure: BudgetMeasure;
  cap: Fen;
  actor: string;
  reason: string;
}

export interface BudgetView {
  id: string;
  scope: string;
  measure: BudgetMeasure;
  cap: Fen;
  used: Fen;
  room: Fen;
  waiting: number;
  updatedAt: string;
}

export const budgetId = (scope: ScopeKind, value: string, measure: BudgetMeasure) =>
  scope === "total" ? `total:${measure}` : `${scope}:${value}:${measure}`;

export function budgetChangeBodyHash(c: BudgetChangeTable): string {
  return bodyHash([c.id, c.budget_id, c.action, c.cap_before, c.cap_after, c.actor, c.reason, c.at]);
}

function scopeValue(deps: IngestDeps, spec: Pick<BudgetSpec, "scope" | "value">): string {
  const { scope, value } = spec;
  if (scope === "total") return "all";
  const known: readonly string[] =
    scope === "region" ? REGIONS : scope === "segment" ? SEGMENTS : [deps.engine.pricing.product];
  if (value === undefined || !known.includes(value))
    throw new BudgetError(`${scope} must be one of ${known.join(", ")}; got ${value ?? "nothing"}`);
  return value;
}

/**
 * Sets a budget's cap (creating it with its current usage) and seals the change with who and why.
 * A new budget reads its usage with the lines locked against writers (PostgreSQL SHARE lock, and
 * EXCLUSIVE on budgets so no writer holds room it counted before the budget existed); from then on
 * the usage triggers keep it. A raised cap frees room, so the queue is drained afterwards.
 */
export async function setBudget(deps: IngestDeps, spec: BudgetSpec): Promise<BudgetView> {
  const value = scopeValue(deps, spec);
  const id = budgetId(spec.scope, value, spec.measure);
  const raised = await deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const at = deps.clock();
      let existing = await trx.selectFrom("budgets").selectAll().where("id", "=", id).executeTakeFirst();
      if (existing === undefined && deps.store.dialect === "postgres") {
        await sql`lock table budgets in exclusive mode`.execute(trx);
        await sql`lock table credit_lines in share mode`.execute(trx);
        existing = await trx.selectFrom("budgets").selectAll().where("id", "=", id).executeTakeFirst();
      }
      if (existing === undefined) {
        const column = spec.measure === "limit" ? "limit_amount" : "balance";
        let usage = trx
          .selectFrom("credit_lines")
          .select((eb) => eb.fn.sum<number | string>(column).as("used"));
        if (spec.scope === "region") usage = usage.where("region", "=", value);
        if (spec.scope === "segment") usage = usage.where("segment", "=", value);
        const { used } = await usage.executeTakeFirstOrThrow();
        await trx
          .insertInto("budgets")
          .values({
            id,
            scope_kind: spec.scope,
            scope_value: value,
            measure: spec.measure,
            cap: spec.cap,
            used: Number(used ?? 0),
            updated_at: at,
          })
          .execute();
      } else {
        await trx
          .updateTable("budgets")
          .set({ cap: spec.cap, updated_at: at })
          .where("id", "=", id)
          .execute();
      }
      await recordChange(trx, deps.store, {
        id: deterministicId("bch", `${id}:${at}:${spec.actor}:${spec.cap}`),
        budget_id: id,
        action: "set",
        cap_before: existing?.cap ?? null,
        cap_after: spec.cap,
        actor: spec.actor,
        reason: spec.reason,
        at,
      });
      return existing !== undefined && spec.cap > existing.cap;
    }),
  );
  if (raised) await drainBudgetQueue(deps);
  const view = (await listBudgets(deps.store)).find((b) => b.id === id);
  if (view === undefined) throw new Error(`budget ${id} vanished after it was set`);
  return view;
}

/** Removes a budget; the removal is sealed like any change. Waiting increases are drained after. */
export async function removeBudget(
  deps: IngestDeps,
  id: string,
  actor: string,
  reason: string,
): Promise<void> {
  await deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const at = deps.clock();
      const existing = await trx.selectFrom("budgets").selectAll().where("id", "=", id).executeTakeFirst();
      if (existing === undefined) throw new BudgetError(`budget ${id} does not exist`);
      await trx.deleteFrom("budgets").where("id", "=", id).execute();
      await recordChange(trx, deps.store, {
        id: deterministicId("bch", `${id}:${at}:${actor}:remove`),
        budget_id: id,
        action: "remove",
        cap_before: existing.cap,
        cap_after: null,
        actor,
        reason,
        at,
      });
    }),
  );
  await drainBudgetQueue(deps);
}

async function recordChange(
  trx: Parameters<typeof appendToLedger>[0],
  store: Store,
  change: BudgetChangeTable,
): Promise<void> {
  // The same change by the same actor in the same millisecond is a retry: recorded once.
  const inserted = await trx
    .insertInto("budget_changes")
    .values(change)
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
  await appendToLedger(
    trx,
    store,
    [{ kind: "budget_change", refId: change.id, bodyHash: budgetChangeBodyHash(change) }],
    change.at,
  );
}

function view(b: BudgetTable, waiting: number): BudgetView {
  return {
    id: b.id,
    scope: scopeName(b),
    measure: b.measure as BudgetMeasure,
    cap: b.cap,
    used: b.used,
    room: Math.max(0, b.cap - b.used),
    waiting,
    updatedAt: new Date(b.updated_at).toISOString(),
  };
}

/** Every budget with its usage, room and the increases waiting in its scope. */
export async function listBudgets(store: Store): Promise<BudgetView[]> {
  const budgets = await store.db.selectFrom("budgets").selectAll().orderBy("id").execute();
  const waiting = await store.db
    .selectFrom("budget_queue")
    .innerJoin("credit_lines", "credit_lines.account_id", "budget_queue.account_id")
    .select(["credit_lines.region", "credit_lines.segment"])
    .where("budget_queue.status", "=", "waiting")
    .execute();
  return budgets.map((b) => view(b, b.measure !== "limit" ? 0 : waiting.filter((w) => covers(b, w)).length));
}

export interface QueueEntryView {
  /** increase, reversal (an appeal's reversal) or reopen (a plan's reopening) */
  kind: QueueKind;
  /** For a reversal: the appeal it carries out. */
  appealId: string | null;
  accountId: string;
  decisionId: string;
  fromLimit: Fen;
  requestedLimit: Fen;
  pd: number;
  requestedAt: string;
  status: string;
  settledAt: string | null;
  settledDecisionId: string | null;
}

/**
 * The budget queue in priority order (appeal reversals, then plans' reopenings, by arrival; then
 * increases by PD), or one status of it.
 */
export async function budgetQueue(store: Store, status?: string, limit = 200): Promise<QueueEntryView[]> {
  let query = store.db.selectFrom("budget_queue").selectAll();
  if (status !== undefined) query = query.where("status", "=", status);
  const rows = await query
    .orderBy(queueRank)
    .orderBy(queuePd)
    .orderBy("requested_at")
    .orderBy("account_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    kind: r.kind as QueueKind,
    appealId: r.kind === "reversal" ? r.ref_id : null,
    accountId: r.account_id,
    decisionId: r.decision_id,
    fromLimit: r.from_limit,
    requestedLimit: r.requested_limit,
    pd: r.pd,
    requestedAt: new Date(r.requested_at).toISOString(),
    status: r.status,
    settledAt: r.settled_at === null ? null : new Date(r.settled_at).toISOString(),
    settledDecisionId: r.settled_decision_id,
  }));
}
