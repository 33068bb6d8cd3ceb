import type { Transaction } from "kysely";
import { bodyHash } from "../engine/ledger.ts";
import { formatYuan } from "../engine/money.ts";
import { addDays, MS_PER_DAY } from "../engine/time.ts";
import type { AppealEvidenceTable, AppealTable, Database } from "../store/schema.ts";
import { type CheckedEvidence, checkEvidence, type EvidenceUpload } from "./appealEvidence.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import { BudgetBook } from "./budgetBook.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { ingestEvents } from "./ingest.ts";
import type { LineRecord } from "./lineBook.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { writeNotices } from "./outbox.ts";
import { applyRateDecision, isRateDecision, reverseRateDecision } from "./rateChanges.ts";
import { restoreLine } from "./restorations.ts";
import { appendToLedger, WriteSet } from "./writeSet.ts";

/** How long after a decision the borrower may still appeal it. */
export const APPEAL_WINDOW_DAYS = 90;
/** How long a reviewer has for an appeal on a change that already took effect. */
export const REVIEW_DAYS = 7;
export const MIN_REASON_LENGTH = 20;
/** Phrases that explain nothing; a reviewer's reason must say what was weighed. */
const EMPTY_REASONS = [/^\s*(internal policy|policy|n\/?a|ok|approved|rejected|score too low)\W*$/i];

export type AppealOutcome = "uphold" | "reverse" | "adjust";
const OUTCOME_STATUS: Record<AppealOutcome, string> = {
  uphold: "upheld",
  reverse: "reversed",
  adjust: "adjusted",
};

/** A request the service refuses; the API turns it into problem+json naming `field`. */
export class AppealRefused extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

export function appealBodyHash(a: AppealTable): string {
  return bodyHash([
    a.id,
    a.idempotency_key,
    a.account_id,
    a.decision_id,
    a.kind,
    a.statement,
    a.paused_action,
    a.filed_at,
    a.deadline_at,
  ]);
}

export function appealOutcomeHash(a: AppealTable): string {
  return bodyHash([a.id, a.status, a.reviewer, a.outcome_reason, a.outcome_limit, a.decided_at]);
}

export function evidenceBodyHash(e: AppealEvidenceTable): string {
  return bodyHash([e.id, e.appeal_id, e.kind, e.filename, e.content_type, e.size_bytes, e.sha256, e.content]);
}

export interface AppealView {
  appealId: string;
  accountId: string;
  decisionId: string;
  kind: string;
  statement: string;
  status: string;
  pausedAction: boolean;
  filedAt: string;
  deadlineAt: string;
  reviewer: string | null;
  outcomeReason: string | null;
  outcomeLimit: number | null;
  decidedAt: string | null;
  evidence: {
    evidenceId: string;
    kind: string;
    filename: string;
    contentType: string;
    sizeBytes: number;
    sha256: string;
  }[];
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

function view(a: AppealTable, evidence: AppealEvidenceTable[]): AppealView {
  return {
    appealId: a.id,
    accountId: a.account_id,
    decisionId: a.decision_id,
    kind: a.kind,
    statement: a.statement,
    status: a.status,
    pausedAction: a.paused_action === 1,
    filedAt: iso(a.filed_at),
    deadlineAt: iso(a.deadline_at),
    reviewer: a.reviewer,
    outcomeReason: a.outcome_reason,
    outcomeLimit: a.outcome_limit,
    decidedAt: a.decided_at === null ? null : iso(a.decided_at),
    evidence: evidence.map((e) => ({
      evidenceId: e.id,
      kind: e.kind,
      filename: e.filename,
      contentType: e.content_type,
      sizeBytes: e.size_bytes,
      sha256: e.sha256,
    })),
  };
}

async function evidenceOf(trx: Transaction<Database>, appealIds: string[]) {
  if (appealIds.length === 0) return new Map<string, AppealEvidenceTable[]>();
  const rows = await trx
    .selectFrom("appeal_evidence")
    .selectAll()
    .where("appeal_id", "in", appealIds)
    .orderBy("id")
    .execute();
  const byAppeal = new Map<string, AppealEvidenceTable[]>();
  for (const r of rows) byAppeal.set(r.appeal_id, [...(byAppeal.get(r.appeal_id) ?? []), r]);
  return byAppeal;
}

export interface AppealRequest {
  decisionId: string;
  statement: string;
  evidence: EvidenceUpload[];
  /** Makes a retried request land on the same appeal. */
  requestId: string;
}

/**
 * The borrower appeals an adverse decision. Within the notice period the announced change is
 * paused (it will not take effect) until a reviewer decides. The appeal, each evidence file's
 * hash and the notice to the borrower commit together, sealed in the ledger.
 */
export async function fileAppeal(
  deps: IngestDeps,
  accountId: string,
  request: AppealRequest,
): Promise<AppealView> {
  const evidence: CheckedEvidence[] = checkEvidence(request.evidence);
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const key = `appeal:${accountId}:${request.requestId}`;
      const id = deterministicId("apl", key);
      const existing = await trx.selectFrom("appeals").selectAll().where("id", "=", id).executeTakeFirst();
      if (existing !== undefined) return view(existing, (await evidenceOf(trx, [id])).get(id) ?? []);
      const decision = await trx
        .selectFrom("decisions")
        .selectAll()
        .where("id", "=", request.decisionId)
        .executeTakeFirst();
      if (decision === undefined || decision.account_id !== accountId)
        throw new AppealRefused(
          404,
          "decisionId",
          `decision ${request.decisionId} of account ${accountId} does not exist`,
        );
      if (decision.adverse !== 1)
        throw new AppealRefused(
          409,
          "decisionId",
          `decision ${decision.id} is not adverse; there is nothing to appeal`,
        );
      if (now > addDays(decision.decided_at, APPEAL_WINDOW_DAYS))
        throw new AppealRefused(
          409,
          "decisionId",
          `the ${APPEAL_WINDOW_DAYS}-day appeal window of ${decision.id} has closed`,
        );
      const open = await trx
        .selectFrom("appeals")
        .selectAll()
        .where("decision_id", "=", decision.id)
        .where("status", "=", "open")
        .executeTakeFirst();
      if (open !== undefined && open.kind === "appeal")
        throw new AppealRefused(
          409,
          "decisionId",
          `decision ${decision.id} already has an open appeal ${open.id}`,
        );
      const paused = decision.status === "scheduled" && decision.effective_at > now;
      const row: AppealTable = {
        id,
        idempotency_key: key,
        account_id: accountId,
        decision_id: decision.id,
        kind: "appeal",
        statement: request.statement,
        status: "open",
        paused_action: paused ? 1 : 0,
        filed_at: now,
        deadline_at: paused ? decision.effective_at : addDays(now, REVIEW_DAYS),
        reviewer: null,
        outcome_reason: null,
        outcome_limit: null,
        decided_at: null,
      };
      if (paused)
        await trx
          .updateTable("decisions")
          .set({ status: "appealed" })
          .where("id", "=", decision.id)
          .execute();
      // A decision already waiting for a reviewer (opt-out) is now reviewed as this appeal.
      if (open !== undefined)
        await trx
          .updateTable("appeals")
          .set({ status: "merged", decided_at: now })
          .where("id", "=", open.id)
          .execute();
      const writes = new WriteSet(deps.engine, now);
      await trx.insertInto("appeals").values(row).execute();
      writes.seal("appeal", id, appealBodyHash(row));
      const evidenceRows: AppealEvidenceTable[] = evidence.map((e, i) => ({
        id: deterministicId("evd", `${id}:${i}`),
        appeal_id: id,
        kind: e.kind,
        filename: e.filename,
        content_type: e.contentType,
        size_bytes: e.sizeBytes,
        sha256: e.sha256,
        content: e.content,
        uploaded_at: now,
      }));
      for (const e of evidenceRows) {
        await trx.insertInto("appeal_evidence").values(e).execute();
        writes.seal("evidence", e.id, evidenceBodyHash(e));
      }
      writes.outbox.push(
        borrowerNotice(
          accountId,
          "appeal_received",
          id,
          {
            appealId: id,
            decisionId: decision.id,
            pausedAction: paused,
            reviewBy: iso(row.deadline_at),
            en: paused
              ? `We received your appeal. The announced ${decision.action} will not take effect until a reviewer decides, by ${iso(row.deadline_at).slice(0, 10)}.`
              : `We received your appeal. A reviewer will decide by ${iso(row.deadline_at).slice(0, 10)}.`,
            zh: paused
              ? `我们已收到您的申诉。在人工复核作出决定前（${iso(row.deadline_at).slice(0, 10)}前），已通知的调整不会生效。`
              : `我们已收到您的申诉。复核人员将于${iso(row.deadline_at).slice(0, 10)}前作出决定。`,
          },
          now,
        ),
      );
      await writes.flush(trx, deps.store);
      return view(row, evidenceRows);
    }),
  );
}

/**
 * Decisions held for a borrower who opted out of solely automated decisions become review items,
 * so the reviewer's queue holds them beside appeals.
 */
async function openOptOutReviews(trx: Transaction<Database>, now: number): Promise<void> {
  const held = await trx
    .selectFrom("decisions")
    .leftJoin("appeals", "appeals.decision_id", "decisions.id")
    .selectAll("decisions")
    .where("decisions.status", "=", "pending_review")
    .where("appeals.id", "is", null)
    .limit(1000)
    .execute();
  for (const d of held) {
    const key = `opt_out:${d.id}`;
    await trx
      .insertInto("appeals")
      .values({
        id: deterministicId("apl", key),
        idempotency_key: key,
        account_id: d.account_id,
        decision_id: d.id,
        kind: "opt_out",
        statement: "",
        status: "open",
        paused_action: 1,
        filed_at: now,
        deadline_at: Math.max(d.effective_at, d.decided_at + MS_PER_DAY),
        reviewer: null,
        outcome_reason: null,
        outcome_limit: null,
        decided_at: null,
      })
      .onConflict((oc) => oc.column("idempotency_key").doNothing())
      .execute();
  }
}

/** The reviewer's queue: open items, soonest deadline first. */
export async function reviewQueue(deps: IngestDeps, limit: number): Promise<AppealView[]> {
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      await openOptOutReviews(trx, deps.clock());
      const rows = await trx
        .selectFrom("appeals")
        .selectAll()
        .where("status", "=", "open")
        .orderBy("deadline_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      const evidence = await evidenceOf(
        trx,
        rows.map((r) => r.id),
      );
      return rows.map((r) => view(r, evidence.get(r.id) ?? []));
    }),
  );
}

export async function getAppeal(deps: IngestDeps, appealId: string): Promise<AppealView | null> {
  return deps.store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("appeals").selectAll().where("id", "=", appealId).executeTakeFirst();
    if (row === undefined) return null;
    return view(row, (await evidenceOf(trx, [appealId])).get(appealId) ?? []);
  });
}

/** Every appeal of an account, newest first: what the borrower sees of their appeals and outcomes. */
export async function accountAppeals(deps: IngestDeps, accountId: string): Promise<AppealView[]> {
  return deps.store.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom("appeals")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("kind", "=", "appeal")
      .orderBy("filed_at", "desc")
      .orderBy("id")
      .limit(500)
      .execute();
    const evidence = await evidenceOf(
      trx,
      rows.map((r) => r.id),
    );
    return rows.map((r) => view(r, evidence.get(r.id) ?? []));
  });
}

/** One evidence file's bytes, for the reviewer to open; null when the appeal has no such file. */
export async function getEvidence(
  deps: IngestDeps,
  appealId: string,
  evidenceId: string,
): Promise<{ filename: string; contentType: string; bytes: Buffer } | null> {
  const row = await deps.store.db
    .selectFrom("appeal_evidence")
    .select(["filename", "content_type", "content"])
    .where("appeal_id", "=", appealId)
    .where("id", "=", evidenceId)
    .executeTakeFirst();
  if (row === undefined) return null;
  return { filename: row.filename, contentType: row.content_type, bytes: Buffer.from(row.content, "base64") };
}

export interface ReviewerDecision {
  reviewer: string;
  outcome: AppealOutcome;
  reason: string;
  /** For adjust: the limit the reviewer sets, between the decided and the previous limit. */
  limit?: number;
  /** Monthly income the evidence proves (fen); recorded as a verified income event. */
  verifiedMonthlyIncome?: number;
}

function clearPending(line: LineRecord, decisionId: string): void {
  if (line.row.pending_decision_id !== decisionId) return;
  line.row.pending_decision_id = null;
  line.row.pending_action = null;
  line.lineChanged = true;
}

/**
 * A reviewer decides an appeal (or a decision held because the borrower opted out): uphold lets
 * the change proceed, reverse cancels it or undoes it, adjust sets a limit in between. The written
 * reason, the line change and the notice to the borrower commit together, sealed in the ledger.
 */
export async function decideAppeal(
  deps: IngestDeps,
  appealId: string,
  review: ReviewerDecision,
): Promise<AppealView> {
  const reason = review.reason.trim();
  if (reason.length < MIN_REASON_LENGTH || EMPTY_REASONS.some((p) => p.test(reason)))
    throw new AppealRefused(
      422,
      "reason",
      `a reviewer's reason must say what was weighed (at least ${MIN_REASON_LENGTH} characters)`,
    );
  const result = await deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const appeal = await trx
        .selectFrom("appeals")
        .selectAll()
        .where("id", "=", appealId)
        .executeTakeFirst();
      if (appeal === undefined) throw new AppealRefused(404, null, `appeal ${appealId} does not exist`);
      if (appeal.status !== "open")
        throw new AppealRefused(409, null, `appeal ${appealId} is already ${appeal.status}`);
      const decision = await trx
        .selectFrom("decisions")
        .selectAll()
        .where("id", "=", appeal.decision_id)
        .executeTakeFirstOrThrow();
      const lines = await loadLines(trx, deps.store, [appeal.account_id]);
      const line = lines.get(appeal.account_id);
      if (line === undefined)
        throw new AppealRefused(404, null, `account ${appeal.account_id} does not exist`);
      // Giving a limit back spends exposure budget like an increase (restorations.ts).
      const writes = new WriteSet(deps.engine, now, await BudgetBook.open(trx));
      const held = decision.status === "appealed" || decision.status === "pending_review";
      let decisionStatus = decision.status;
      /** Whether the limit this outcome gives back waits for budget room. */
      let restoration: "applied" | "waiting" | null = null;
      let outcomeLimit = line.row.limit_amount;
      if (review.outcome === "adjust") {
        const low = Math.min(decision.to_limit, decision.from_limit);
        const high = Math.max(decision.to_limit, decision.from_limit);
        if (
          decision.action !== "decrease" ||
          review.limit === undefined ||
          review.limit < low ||
          review.limit > high
        )
          throw new AppealRefused(
            422,
            "limit",
            `adjust needs a limit from ${low} to ${high} fen on a decrease (this decision is a ${decision.action})`,
          );
      }
      const rate = isRateDecision(decision);
      if (review.outcome === "uphold" && held) {
        clearPending(line, decision.id);
        if (decision.effective_at > now) {
          // The notice period still runs: the change takes effect on its announced date.
          decisionStatus = "scheduled";
          // A rate rise stays announced on the line's rate terms; a limit change holds the line.
          if (!rate) {
            line.row.pending_decision_id = decision.id;
            line.row.pending_action = decision.action;
          }
        } else if (rate) {
          decisionStatus = (await applyRateDecision(trx, writes, line, decision)) ? "applied" : "cancelled";
        } else {
          decisionStatus = "applied";
          writes.applyDecision(line, { ...decision, effective_at: now });
          writes.notify(line, decision, "action_applied", null);
        }
        outcomeLimit = decision.to_limit;
      } else if (review.outcome === "reverse") {
        if (rate && (held || decision.status === "applied")) await reverseRateDecision(trx, line, decision);
        if (held) {
          clearPending(line, decision.id);
          decisionStatus = "cancelled";
        } else if (rate && decision.status === "applied") {
          decisionStatus = "reversed";
        } else if (decision.status === "applied") {
          restoration = restoreLine(
            writes,
            line,
            decision,
            appealId,
            { limit: decision.from_limit, status: decision.from_status },
            now,
          );
          decisionStatus = "reversed";
        }
        outcomeLimit = held ? line.row.limit_amount : decision.from_limit;
      } else if (review.outcome === "adjust") {
        const limit = review.limit as number;
        clearPending(line, decision.id);
        restoration = restoreLine(writes, line, decision, appealId, { limit, status: line.row.status }, now);
        decisionStatus = "adjusted";
        outcomeLimit = limit;
      }
      if (decisionStatus !== decision.status)
        await trx
          .updateTable("decisions")
          .set({ status: decisionStatus })
          .where("id", "=", decision.id)
          .execute();
      const decided: AppealTable = {
        ...appeal,
        status: OUTCOME_STATUS[review.outcome],
        reviewer: review.reviewer,
        outcome_reason: reason,
        outcome_limit: outcomeLimit,
        decided_at: now,
      };
      await trx
        .updateTable("appeals")
        .set({
          status: decided.status,
          reviewer: decided.reviewer,
          outcome_reason: decided.outcome_reason,
          outcome_limit: decided.outcome_limit,
          decided_at: decided.decided_at,
        })
        .where("id", "=", appealId)
        .execute();
      writes.seal("appeal_decision", appealId, appealOutcomeHash(decided));
      const words = {
        uphold: { en: "upheld", zh: "维持原决定" },
        reverse: { en: "reversed", zh: "撤销原决定" },
        adjust: { en: "adjusted", zh: "调整原决定" },
      }[review.outcome];
      writes.outbox.push(
        borrowerNotice(
          appeal.account_id,
          "appeal_decided",
          appealId,
          {
            appealId,
            decisionId: decision.id,
            outcome: review.outcome,
            reason,
            limit: outcomeLimit,
            restoration,
            ...(restoration === "waiting"
              ? {
                  en: `A reviewer ${words.en} the decision on your appeal. Your limit returns to ${formatYuan(outcomeLimit)} yuan: the credit budget it counts in is fully used just now, so your restoration is first in line and takes effect as soon as room frees; we will tell you when it does. Reason: ${reason}`,
                  zh: `复核人员已${words.zh}。您的额度将恢复为${formatYuan(outcomeLimit)}元：由于您所在的信贷预算目前已用满，您的额度恢复排在首位，一有额度空间即生效，届时我们会通知您。理由：${reason}`,
                }
              : {
                  en: `A reviewer ${words.en} the decision on your appeal. Your limit is ${formatYuan(outcomeLimit)} yuan. Reason: ${reason}`,
                  zh: `复核人员已${words.zh}。您的额度为${formatYuan(outcomeLimit)}元。理由：${reason}`,
                }),
          },
          now,
        ),
      );
      await saveLines(trx, deps.store, lines.values(), now);
      await writes.flush(trx, deps.store);
      return { appeal: decided, evidence: (await evidenceOf(trx, [appealId])).get(appealId) ?? [] };
    }),
  );
  if (review.verifiedMonthlyIncome !== undefined) {
    // The reviewer confirmed the income the evidence proves: it enters the feature state as any
    // verified income does, so the next decision reads it.
    await ingestEvents(deps, [
      {
        id: `${appealId}-income`,
        accountId: result.appeal.account_id,
        occurredAt: new Date(deps.clock()).toISOString(),
        type: "income_verified",
        data: { monthlyIncome: review.verifiedMonthlyIncome, source: `appeal:${appealId}` },
      },
    ]);
  }
  return view(result.appeal, result.evidence);
}

/** The borrower opts out of (or back into) solely automated decisions. */
export async function setAutomatedDecisionOptOut(
  deps: IngestDeps,
  accountId: string,
  optOut: boolean,
): Promise<{ accountId: string; optOutAutomated: boolean } | null> {
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const line = await trx
        .selectFrom("credit_lines")
        .select(["borrower_id"])
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      if (line === undefined) return null;
      const now = deps.clock();
      await trx
        .updateTable("borrowers")
        .set({ opt_out_automated: optOut ? 1 : 0 })
        .where("id", "=", line.borrower_id)
        .execute();
      const notice = borrowerNotice(
        accountId,
        "automated_decisions_preference",
        `${accountId}:${now}:${optOut}`,
        {
          optOutAutomated: optOut,
          en: optOut
            ? "From now on a person reviews every adverse decision on your line before it takes effect."
            : "Automated decisions on your line take effect without a reviewer again.",
          zh: optOut
            ? "此后，您额度的每项不利调整都将先经人工复核再生效。"
            : "您额度的自动化决定将恢复直接生效。",
        },
        now,
      );
      await appendToLedger(trx, deps.store, await writeNotices(trx, deps.store.dialect, [notice]), now);
      return { accountId, optOutAutomated: optOut };
    }),
  );
}
