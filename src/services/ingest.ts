import { sql, type Transaction } from "kysely";
import { decide } from "../engine/decide.ts";
import { type CreditEvent, isProhibitedPurpose, MAX_EVENTS_PER_BATCH } from "../engine/events.ts";
import { applyEvent, emptyFeatureState } from "../engine/features.ts";
import { type CompiledPolicy, compiled } from "../engine/policy/compile.ts";
import { shouldRedecide } from "../engine/triggers.ts";
import type { Store, StoreDialect } from "../store/connect.ts";
import { insertRows, type RowConflict, type RowsWritten } from "../store/rowInserts.ts";
import type { ApiActionTable, Database, RefusedEventTable } from "../store/schema.ts";
import { runShaped, statementChunks } from "../store/shapedStatements.ts";
import { apiActionBodyHash } from "./actionLog.ts";
import { BudgetBook, type LineScope } from "./budgetBook.ts";
import { classMeasuresIn } from "./classMeasures.ts";
import { type ActiveEngine, contextFor } from "./engineConfig.ts";
import { decisionInput, type LineRecord } from "./lineBook.ts";
import type { LineCache } from "./lineCache.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import type { Mutex } from "./mutex.ts";
import { drawdownRow, quoteDrawdown } from "./pricing.ts";
import { repriceLine, setLineRate } from "./rateChanges.ts";
import { WriteSet } from "./writeSet.ts";

export type EventOutcome =
  | { id: string; status: "accepted"; decisionId?: string }
  | { id: string; status: "duplicate" }
  | { id: string; status: "rejected"; reason: string };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  decisions: number;
  results: EventOutcome[];
}

export interface IngestDeps {
  store: Store;
  engine: ActiveEngine;
  clock: () => number;
  writeLock: Mutex;
  /**
   * Runs first in every ingest transaction and throws when this process may no longer write what
   * it was given (a stream worker that lost its partition locks), so nothing of the batch commits.
   */
  fence?: (trx: Transaction<Database>) => Promise<void>;
  /** SQLite: lines kept between ingest transactions (lineCache.ts). */
  lineCache?: LineCache;
}

/**
 * Takes one batch of already-validated events through the decision loop in one transaction:
 * event log, feature state, decisions for triggering events, ledger and outbox. Either all of
 * that commits or none of it does, so a crash can lose no accepted event and duplicate no effect.
 */
export async function ingestEvents(deps: IngestDeps, events: readonly CreditEvent[]): Promise<IngestResult> {
  const [result] = await ingestBatches(deps, [events]);
  return result as IngestResult;
}

/** Most events one transaction takes when several batches commit together. */
export const MAX_EVENTS_PER_TRANSACTION = 8 * MAX_EVENTS_PER_BATCH;

/**
 * Several batches in one transaction (group commit): a line touched by many of them is read,
 * written and committed once. Each batch still gets its own result, as if it had come alone
 * after the ones before it.
 */
export async function ingestBatches(
  deps: IngestDeps,
  batches: readonly (readonly CreditEvent[])[],
  /** The records of the requests that sent them, committed and sealed with their effects. */
  senders: readonly ApiActionTable[] = [],
): Promise<IngestResult[]> {
  for (const batch of batches) {
    if (batch.length > MAX_EVENTS_PER_BATCH) {
      throw new RangeError(`a batch holds at most ${MAX_EVENTS_PER_BATCH} events, got ${batch.length}`);
    }
  }
  const events = batches.flat();
  if (events.length > MAX_EVENTS_PER_TRANSACTION) {
    throw new RangeError(
      `a transaction takes at most ${MAX_EVENTS_PER_TRANSACTION} events, got ${events.length}`,
    );
  }
  const { store, engine, lineCache } = deps;
  return deps.writeLock.run(async () => {
    try {
      const done = await store.db.transaction().execute((trx) => decideAndWrite(trx));
      // Under the lock still: no other writer can come between the commit and this.
      lineCache?.keep(done.lines);
      return done.results;
    } catch (error) {
      lineCache?.forget();
      throw error;
    }
  }, lineCache);

  async function decideAndWrite(trx: Transaction<Database>) {
    await lineCache?.open(trx);
    await deps.fence?.(trx);
    const recordedAt = deps.clock();
    // The first arrival of each key carries the event's outcome; a repeat (null) is a duplicate.
    const firstArrivals: (Arrival | null)[] = [];
    const unique: Arrival[] = [];
    const keys = new Set<string>();
    for (const event of events) {
      const key = eventKey(event.accountId, event.id);
      if (keys.has(key)) {
        firstArrivals.push(null);
        continue;
      }
      const arrival: Arrival = { event, key, outcome: { id: event.id, status: "duplicate" }, at: 0 };
      keys.add(key);
      unique.push(arrival);
      firstArrivals.push(arrival);
    }
    const openings: LineScope[] = [];
    for (const { event: e } of unique)
      if (e.type === "account_opened")
        openings.push({ accountId: e.accountId, region: e.data.region, segment: e.data.segment });
    const lines = await (lineCache ?? ALWAYS_LOAD).load(
      trx,
      store,
      [...new Set(unique.map((u) => u.event.accountId))],
      openings,
    );
    const budgets = await BudgetBook.open(trx);
    const measures = await classMeasuresIn(trx);
    const opening = new Set(openings.map((o) => o.accountId));
    // Not remembered, unlike a refused drawdown: an event that came before its account was
    // opened may be sent again once it is, and is then taken.
    const known = unique.filter((a) => {
      const e = a.event;
      if (lines.has(e.accountId) || opening.has(e.accountId)) return true;
      a.outcome = { id: e.id, status: "rejected", reason: `account ${e.accountId} is not open` };
      return false;
    });

    // Events taken before, accepted or refused: a replay of either changes nothing. A refusal
    // judged again would read the line as later events left it, and could accept, out of
    // order, a drawdown that was refused (a redelivered stream batch, a retried request).
    // Only the kinds of event whose refusal is remembered (REMEMBERED_REFUSALS) are looked for
    // among the refused: for most events no search at all.
    // The rest go into the event log as they are checked against it (logNewEvents): one search of
    // the log's key per event where a look-up and then an insert took two. The few this
    // transaction refuses leave the log again below, for the refused events.
    const refusedBefore = await keysIn(
      trx,
      store.dialect,
      "refused_events",
      known.filter((a) => REMEMBERED_REFUSALS.has(a.event.type)),
    );
    const candidates = known.filter((k) => !refusedBefore.has(k.key));
    for (const c of candidates) c.at = Date.parse(c.event.occurredAt);
    // Logged in the order they will be taken: each account's events are neighbours in the log's
    // key index, so appending them touches its pages in one sweep.
    const ordered = inAccountOrder(candidates);
    const loggedBefore = await logNewEvents(trx, store.dialect, ordered, recordedAt);
    const fresh = loggedBefore.size === 0 ? ordered : ordered.filter((k) => !loggedBefore.has(k.key));

    const writes = new WriteSet(engine, recordedAt, budgets);
    const newBorrowers = new Map<string, CreditEvent & { type: "account_opened" }>();
    const consented = await bureauConsents(trx, store.dialect, lines, fresh);
    const refused: RefusedEventTable[] = [];
    /** Events of an account whose opening this group refused: out of the log, not remembered. */
    const notOpen: EventKeyColumns[] = [];
    for (const arrival of fresh) {
      const { event, at } = arrival;
      let line = lines.get(event.accountId);
      let refusal: string | null;
      if (event.type === "account_opened")
        refusal = line === undefined ? refuseOpening(budgets, event) : null;
      else if (line === undefined) {
        // Its account's opening was refused earlier in this group. Not remembered, as for any
        // event of an account not open (above): sent again once the account is open, it is taken.
        arrival.outcome = {
          id: event.id,
          status: "rejected",
          reason: `account ${event.accountId} is not open`,
        };
        notOpen.push({ account_id: event.accountId, event_id: event.id });
        continue;
      } else {
        const borrowerId = line.row.borrower_id;
        refusal =
          refuseDrawdown(line, event, budgets, compiled(contextFor(engine, event.accountId).policy)) ??
          refuseBureauData(
            event,
            borrowerId,
            newBorrowers.get(borrowerId)?.data.consentBureau ?? consented.has(borrowerId),
          );
      }
      if (refusal !== null) {
        arrival.outcome = { id: event.id, status: "rejected", reason: refusal };
        refused.push({
          account_id: event.accountId,
          event_id: event.id,
          reason: refusal,
          occurred_at: at,
          recorded_at: recordedAt,
        });
        continue;
      }
      const outcome: EventOutcome = { id: event.id, status: "accepted" };
      arrival.outcome = outcome;
      if (event.type === "account_opened") {
        if (line !== undefined) continue; // Re-opening an open account is a no-op, not an error.
        line = openLine(event, at);
        lines.set(event.accountId, line);
        newBorrowers.set(event.data.borrowerId, event);
        continue;
      }
      if (line === undefined) continue;
      if (event.type === "drawdown") {
        const quote = quoteDrawdown(engine, line, event.data, at);
        writes.recordDrawdown(drawdownRow(event.accountId, event.id, quote, recordedAt));
        // The first drawdown on a line not yet priced agrees its rate.
        if (line.row.rate_terms === null) setLineRate(line, { ...quote.lineRate, pending: null });
      }
      const policy = contextFor(engine, event.accountId).policy;
      const redecide = shouldRedecide(policy, event, line.state, at, line.row.status === "FROZEN");
      applyEvent(line.state, event, at, compiled(policy).prohibitedPurposes);
      line.stateChanged = true;
      if (applyBalance(line, event)) line.lineChanged = true;
      if (!redecide) continue;
      const now = Math.min(at, recordedAt);
      const input = decisionInput(
        line,
        { kind: "event", eventId: event.id, eventType: event.type },
        now,
        measures,
      );
      const decision = decide(input, contextFor(engine, input.accountId), now);
      const key = `event:${event.accountId}:${event.id}`;
      outcome.decisionId = writes.record(line, input, decision, key).id;
      repriceLine(writes, line, input, decision, key);
    }

    await unlog(trx, store.dialect, [...refused, ...notOpen]);
    await insertRows(trx, store.dialect, "refused_events", refused);
    if (newBorrowers.size > 0) {
      const rows = [...newBorrowers.values()].map((e) => ({
        id: e.data.borrowerId,
        region: e.data.region,
        segment: e.data.segment,
        declared_income: e.data.declaredMonthlyIncome,
        consent_bureau: e.data.consentBureau ? 1 : 0,
        opt_out_automated: e.data.optOutAutomated ? 1 : 0,
        created_at: Date.parse(e.occurredAt),
      }));
      await insertRows(trx, store.dialect, "borrowers", rows, {
        name: "known borrower kept",
        apply: (q) => q.onConflict((oc) => oc.column("id").doNothing()),
      });
    }
    for (const sender of senders) writes.recordApiAction(sender, apiActionBodyHash(sender));
    await saveLines(trx, store, lines.values(), recordedAt);
    await writes.flush(trx, store);

    // A repeat of an id, in its own batch or a later one of the group, is a duplicate of the first.
    let next = 0;
    const results = batches.map((batch) =>
      summarise(
        batch.map((e): EventOutcome => firstArrivals[next++]?.outcome ?? { id: e.id, status: "duplicate" }),
      ),
    );
    return { results, lines };
  }
}

/** Without a cache (PostgreSQL), every transaction reads its lines. */
const ALWAYS_LOAD = { load: loadLines };

/**
 * The keys (eventKey) of these events that the event log or the refused events hold. PostgreSQL
 * plans a long row-value IN list as a scan of the whole table; a join against the unnested keys
 * uses the primary key. SQLite uses its index for the IN list.
 */
async function keysIn(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  table: "events" | "refused_events",
  arrivals: readonly Arrival[],
): Promise<Set<string>> {
  const seen = new Set<string>();
  if (dialect === "postgres") {
    if (arrivals.length === 0) return seen;
    const accounts = arrivals.map((a) => a.event.accountId);
    const ids = arrivals.map((a) => a.event.id);
    const { rows } = await sql<{ account_id: string; event_id: string }>`select t.account_id, t.event_id
      from ${sql.table(table)} t join unnest(${accounts}::text[], ${ids}::text[]) as k(account_id, event_id)
      on t.account_id = k.account_id and t.event_id = k.event_id`.execute(trx);
    for (const r of rows) seen.add(eventKey(r.account_id, r.event_id));
    return seen;
  }
  for (const chunk of statementChunks(arrivals)) {
    // The values in the order the statement binds them: (account, id) per event.
    const keys: string[] = [];
    for (const { event } of chunk) keys.push(event.accountId, event.id);
    // Built only the first time this shape runs (runShaped keeps its text).
    const { rows } = await runShaped(trx, `${dialect}|keys in ${table}|${chunk.length}`, keys, () =>
      trx
        .selectFrom(table)
        .select(["account_id", "event_id"])
        .where((eb) =>
          eb(
            eb.refTuple("account_id", "event_id"),
            "in",
            chunk.map(({ event }) => eb.tuple(event.accountId, event.id)),
          ),
        ),
    );
    for (const r of rows) seen.add(eventKey(r.account_id, r.event_id));
  }
  return seen;
}

/**
 * Appends these events to the event log, but for any whose key the log already holds, and
 * returns those keys: the events taken before. Nearly always none are, so each statement is first
 * tried whole; only when it appends fewer rows than it carries is the log searched for the rest.
 */
async function logNewEvents(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  arrivals: readonly Arrival[],
  recordedAt: number,
): Promise<Set<string>> {
  const loggedBefore = new Set<string>();
  const append = (chunk: readonly Arrival[]) =>
    insertRows(
      trx,
      dialect,
      "events",
      chunk.map(({ event, at }) => ({
        event_id: event.id,
        account_id: event.accountId,
        type: event.type,
        occurred_at: at,
        recorded_at: recordedAt,
        payload: JSON.stringify(event.data),
      })),
      EVENT_LOGGED_BEFORE,
    );
  for (const chunk of statementChunks(arrivals)) {
    if (dialect === "sqlite") {
      const written = await append(chunk);
      if (written.count === chunk.length) continue;
      for (const key of await loggedBeforeStatement(trx, chunk, written)) loggedBefore.add(key);
      continue;
    }
    // PostgreSQL: undone to a savepoint and searched, where SQLite's rowids tell the rows apart.
    await sql`savepoint log_new_events`.execute(trx);
    if ((await append(chunk)).count === chunk.length) {
      await sql`release savepoint log_new_events`.execute(trx);
      continue;
    }
    await sql`rollback to savepoint log_new_events`.execute(trx);
    await sql`release savepoint log_new_events`.execute(trx);
    const taken = await keysIn(trx, dialect, "events", chunk);
    for (const key of taken) loggedBefore.add(key);
    const fresh = chunk.filter((a) => !taken.has(a.key));
    if ((await append(fresh)).count !== fresh.length)
      // Another writer appended some of them since the search: the transaction fails, as a plain
      // insert would have, and a retry finds them taken.
      throw new Error("event log: events of this batch were appended by another transaction meanwhile");
  }
  return loggedBefore;
}

/**
 * SQLite: the keys of these events that were in the log before the statement that just appended
 * the rest. A new row takes the next rowid after the table's highest, so the rows that statement
 * wrote hold the `written.count` rowids up to its last; any other row with one of these keys was
 * there before. A savepoint would tell them apart too, but would copy every index page the
 * statement changes, on every statement, to be able to undo it.
 */
async function loggedBeforeStatement(
  trx: Transaction<Database>,
  chunk: readonly Arrival[],
  written: RowsWritten,
): Promise<string[]> {
  const firstWritten =
    written.lastRowId === undefined ? null : written.lastRowId - BigInt(written.count) + 1n;
  const { rows } = await sql<{ account_id: string; event_id: string; row_id: number | bigint }>`
    select account_id, event_id, rowid as row_id from events
    where (account_id, event_id) in (${sql.join(chunk.map(({ event }) => sql`(${event.accountId}, ${event.id})`))})`.execute(
    trx,
  );
  const before: string[] = [];
  let fromStatement = 0;
  for (const r of rows) {
    if (firstWritten !== null && BigInt(r.row_id) >= firstWritten) fromStatement++;
    else before.push(eventKey(r.account_id, r.event_id));
  }
  if (fromStatement !== written.count || before.length + fromStatement !== chunk.length)
    throw new Error(
      `event log: ${written.count} events appended but ${fromStatement} found after the last earlier row`,
    );
  return before;
}

/** An event whose key the log already holds is left as it is (logNewEvents counts what was written). */
const EVENT_LOGGED_BEFORE: RowConflict<"events"> = {
  name: "event logged before",
  apply: (query) => query.onConflict((oc) => oc.columns(["account_id", "event_id"]).doNothing()),
};

/** An event's key as the event log and the refused events hold it. */
type EventKeyColumns = Pick<RefusedEventTable, "account_id" | "event_id">;

/** Takes events this transaction did not take back out of the event log (as keysIn, by dialect). */
async function unlog(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  events: readonly EventKeyColumns[],
): Promise<void> {
  if (dialect === "postgres") {
    if (events.length === 0) return;
    const accounts = events.map((e) => e.account_id);
    const ids = events.map((e) => e.event_id);
    await sql`delete from events t using unnest(${accounts}::text[], ${ids}::text[]) as k(account_id, event_id)
      where t.account_id = k.account_id and t.event_id = k.event_id`.execute(trx);
    return;
  }
  for (const chunk of statementChunks(events)) {
    const keys: string[] = [];
    for (const r of chunk) keys.push(r.account_id, r.event_id);
    await runShaped(trx, `${dialect}|unlog|${chunk.length}`, keys, () =>
      trx.deleteFrom("events").where((eb) =>
        eb(
          eb.refTuple("account_id", "event_id"),
          "in",
          chunk.map((r) => eb.tuple(r.account_id, r.event_id)),
        ),
      ),
    );
  }
}

function summarise(results: EventOutcome[]): IngestResult {
  const summary: IngestResult = { accepted: 0, duplicates: 0, rejected: 0, decisions: 0, results };
  for (const r of results) {
    if (r.status === "accepted") {
      summary.accepted++;
      if (r.decisionId !== undefined) summary.decisions++;
    } else if (r.status === "duplicate") summary.duplicates++;
    else summary.rejected++;
  }
  return summary;
}

/** One event of a transaction's group, the first to arrive with its key. */
interface Arrival {
  event: CreditEvent;
  /** eventKey of the event. */
  key: string;
  outcome: EventOutcome;
  /** Its time (epoch ms), once the event is known to be for an open account. */
  at: number;
}

/**
 * Accounts in id order; within an account, event time, ties keeping arrival order. Sorting the
 * few events of each account, rather than the whole group, keeps the comparisons few.
 */
function inAccountOrder(arrivals: readonly Arrival[]): Arrival[] {
  const byAccount = new Map<string, Arrival[]>();
  for (const a of arrivals) {
    const list = byAccount.get(a.event.accountId);
    if (list === undefined) byAccount.set(a.event.accountId, [a]);
    else list.push(a);
  }
  const ordered: Arrival[] = [];
  for (const account of [...byAccount.keys()].sort()) {
    const list = byAccount.get(account) as Arrival[];
    if (list.length > 1) list.sort((x, y) => x.at - y.at); // stable: ties keep arrival order
    for (const a of list) ordered.push(a);
  }
  return ordered;
}

/** Events are idempotent by (account, event id). */
function eventKey(accountId: string, eventId: string): string {
  return `${accountId}\u0000${eventId}`;
}

function openLine(event: CreditEvent & { type: "account_opened" }, at: number): LineRecord {
  return {
    row: {
      account_id: event.accountId,
      borrower_id: event.data.borrowerId,
      region: event.data.region,
      segment: event.data.segment,
      status: "ACTIVE",
      limit_amount: event.data.initialLimit,
      balance: 0,
      opened_at: at,
      last_change_at: null,
      recent_limits: "[]",
      pending_decision_id: null,
      pending_action: null,
      features: "",
      updated_at: at,
      rate_terms: null,
    },
    state: emptyFeatureState(at, event.data.declaredMonthlyIncome),
    optOutAutomated: event.data.optOutAutomated,
    stateChanged: true,
    lineChanged: true,
  };
}

/**
 * Headroom owns the line, so it refuses drawdowns the line does not allow: on a frozen or closed
 * line, beyond the available credit, for a purpose the policy prohibits (securities, down payments, ...),
 * or past a drawn-credit budget. An accepted drawdown spends that budget in this transaction.
 */
function refuseDrawdown(
  line: LineRecord,
  event: CreditEvent,
  budgets: BudgetBook,
  policy: CompiledPolicy,
): string | null {
  if (event.type !== "drawdown") return null;
  const row = line.row;
  if (row.status !== "ACTIVE") return `drawdown refused: the line is ${row.status}`;
  if (isProhibitedPurpose(event.data.purpose, policy.prohibitedPurposes))
    return `drawdown refused: purpose ${event.data.purpose} is prohibited by policy ${policy.policy.version}`;
  const available = row.limit_amount - row.balance;
  if (event.data.amount > available)
    return `drawdown refused: ${event.data.amount} exceeds the available ${available} fen`;
  const scope = { accountId: row.account_id, region: row.region, segment: row.segment };
  const spent = budgets.spend(scope, "balance", event.data.amount);
  if (!spent.ok)
    return `drawdown refused: the ${spent.budget} drawn-credit budget has ${spent.room} fen left`;
  return null;
}

/** A new line's initial limit is new committed credit: it must fit the committed-credit budgets. */
function refuseOpening(budgets: BudgetBook, event: CreditEvent & { type: "account_opened" }): string | null {
  const scope = { accountId: event.accountId, region: event.data.region, segment: event.data.segment };
  const spent = budgets.spend(scope, "limit", event.data.initialLimit);
  if (!spent.ok) return `account refused: the ${spent.budget} credit budget has ${spent.room} fen left`;
  return null;
}

const BUREAU_EVENTS: ReadonlySet<CreditEvent["type"]> = new Set([
  "bureau_inquiry",
  "external_loan_opened",
  "external_loan_closed",
]);

/**
 * The kinds of event whose refusal is remembered in refused_events: refused by refuseOpening,
 * refuseDrawdown and refuseBureauData. No other kind is ever refused but as "not open", which is
 * not remembered.
 */
const REMEMBERED_REFUSALS: ReadonlySet<CreditEvent["type"]> = new Set([
  "account_opened",
  "drawdown",
  ...BUREAU_EVENTS,
]);

/** The borrowers (of lines with bureau events in this batch) who consented to bureau data. */
async function bureauConsents(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  lines: Map<string, LineRecord>,
  fresh: readonly { event: CreditEvent }[],
): Promise<Set<string>> {
  const borrowers = new Set<string>();
  for (const { event } of fresh) {
    const line = lines.get(event.accountId);
    if (line !== undefined && BUREAU_EVENTS.has(event.type)) borrowers.add(line.row.borrower_id);
  }
  const consenting = new Set<string>();
  for (const ids of statementChunks([...borrowers])) {
    const { rows } = await runShaped(trx, `${dialect}|bureau consents|${ids.length}`, [...ids, 1], () =>
      trx.selectFrom("borrowers").select("id").where("id", "in", ids).where("consent_bureau", "=", 1),
    );
    for (const r of rows) consenting.add(r.id);
  }
  return consenting;
}

/** External (bureau) data is taken only under the borrower's consent and with a purpose tag. */
function refuseBureauData(event: CreditEvent, borrowerId: string, consented: boolean): string | null {
  if (
    event.type !== "bureau_inquiry" &&
    event.type !== "external_loan_opened" &&
    event.type !== "external_loan_closed"
  )
    return null;
  if (event.data.consent === undefined)
    return "bureau data refused: data.consent (consentId and purpose) is required";
  if (!consented) return `bureau data refused: borrower ${borrowerId} has not consented to bureau data`;
  return null;
}

/** Drawdowns raise and repayments lower the balance; the balance never goes below zero. */
export function applyBalance(line: LineRecord, event: CreditEvent): boolean {
  if (event.type === "drawdown") {
    line.row.balance += event.data.amount;
    return true;
  }
  if (event.type === "repayment_made") {
    line.row.balance = Math.max(0, line.row.balance - event.data.amount);
    return true;
  }
  return false;
}
