import type { Transaction } from "kysely";
import type { Decision, DecisionInput } from "../engine/decide.ts";
import { bodyHash } from "../engine/ledger.ts";
import { type PricingPolicy, priceFeatures, pricingFor } from "../engine/pricing/rate.ts";
import {
  type LineRate,
  type LineRateTerms,
  nextRate,
  percent,
  rateIncreaseReasons,
  rateRecourse,
} from "../engine/pricing/rateChange.ts";
import { addDays } from "../engine/time.ts";
import type { Database, DecisionTable, RateChangeTable } from "../store/schema.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import { contextFor } from "./engineConfig.ts";
import { deterministicId } from "./ids.ts";
import type { LineRecord } from "./lineBook.ts";
import { recourseRecord } from "./recourseRecords.ts";
import { decisionBodyHash, type WriteSet } from "./writeSet.ts";

export type RateAction = "rate_increase" | "rate_decrease";

/** A rate decision's output: the re-decision that priced it, with the rate change and its reasons. */
export type RateDecisionOutput = Omit<Decision, "action"> & {
  action: RateAction;
  rate: { from: LineRate; to: LineRate };
};

export function isRateDecision(d: Pick<DecisionTable, "action">): boolean {
  return d.action === "rate_increase" || d.action === "rate_decrease";
}

export function rateChangeBodyHash(r: RateChangeTable): string {
  return bodyHash([
    r.id,
    r.decision_id,
    r.account_id,
    r.from_rate_bps,
    r.to_rate_bps,
    r.from_terms,
    r.to_terms,
  ]);
}

/** Parsed rate terms by their text: a book holds few distinct ones (a tier's rate, mostly). */
const termsByText = new Map<string, LineRateTerms>();
const MAX_CACHED_TERMS = 4096;

/** The line's rate terms in force; read-only (frozen, shared by every line with the same text). */
export function lineRate(line: LineRecord): LineRateTerms | null {
  const text = line.row.rate_terms;
  if (text === null) return null;
  let terms = termsByText.get(text);
  if (terms === undefined) {
    terms = deepFreeze(JSON.parse(text) as LineRateTerms);
    if (termsByText.size >= MAX_CACHED_TERMS) termsByText.clear();
    termsByText.set(text, terms);
  }
  return terms;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function setLineRate(line: LineRecord, terms: LineRateTerms): void {
  line.row.rate_terms = JSON.stringify(terms);
  line.lineChanged = true;
}

/**
 * What the re-decision prices the line at: the rate for the tier it found, under the pricing in
 * force and the policy version that decided.
 */
function offeredRate(pricing: PricingPolicy, input: DecisionInput, decision: Decision): LineRate {
  const priced = priceFeatures(pricing, decision.tier, input.features, decision.score);
  return {
    rate: priced.rate,
    tier: decision.tier,
    basis: priced.basis,
    policyVersion: decision.policyVersion,
    product: pricing.product,
  };
}

/** An announced increase no longer wanted: its decision is cancelled and the borrower told. */
function withdraw(writes: WriteSet, line: LineRecord, terms: LineRateTerms): LineRateTerms {
  const pending = terms.pending;
  if (pending === null) return terms;
  writes.withdrawn.push(pending.decisionId);
  writes.outbox.push(
    borrowerNotice(
      line.row.account_id,
      "rate_increase_withdrawn",
      pending.decisionId,
      {
        decisionId: pending.decisionId,
        rate: terms.rate,
        en: `The announced rise of your rate to ${percent(pending.rate)} is withdrawn; your rate stays at ${percent(terms.rate)}.`,
        zh: `已通知的利率上调（至${percent(pending.rate)}）已撤回；您的利率仍为${percent(terms.rate)}。`,
      },
      writes.recordedAt,
    ),
  );
  return { ...terms, pending: null };
}

/**
 * After a re-decision: the line's rate follows the tier it found. A lower rate applies at once;
 * a higher one is an adverse decision like a noticed cut (reasons, recourse, notice period,
 * appealable) and new drawdowns keep the old rate until it takes effect; drawdowns already made
 * keep theirs always. A rise with no reason to give is not made.
 */
export function repriceLine(
  writes: WriteSet,
  line: LineRecord,
  input: DecisionInput,
  decision: Decision,
  idempotencyKey: string,
): void {
  const policy = contextFor(writes.engine, line.row.account_id).policy;
  const pricing = pricingFor(writes.engine.pricing, policy);
  const offered = offeredRate(pricing, input, decision);
  let current = lineRate(line);
  const step = nextRate(current, offered.rate);
  if (step.kind === "keep") return;
  if (step.kind === "pin" || current === null) {
    setLineRate(line, { ...offered, pending: null });
    return;
  }
  if (step.kind === "cancel_pending" || step.cancelPending) current = withdraw(writes, line, current);
  if (step.kind === "cancel_pending") {
    setLineRate(line, current);
    return;
  }
  const increase = step.kind === "increase";
  const reasons = increase
    ? rateIncreaseReasons(pricing, current, offered, input.features, writes.engine.scorer(input.features))
    : [];
  // No rise without a reason, and none on a line the decision leaves frozen or closed: nothing
  // can be drawn there, and reopening re-decides (and re-prices) it.
  if (increase && (reasons.length === 0 || decision.toStatus !== "ACTIVE")) {
    setLineRate(line, current);
    return;
  }
  const now = decision.decidedAt;
  const effectiveAt = increase ? addDays(now, policy.guardrails.noticeDays) : now;
  const key = `${idempotencyKey}:rate`;
  const id = deterministicId("dec", key);
  const output: RateDecisionOutput = {
    ...decision,
    action: increase ? "rate_increase" : "rate_decrease",
    ruleId: null,
    urgency: increase ? "notice" : "favourable",
    adverse: increase,
    recall: false,
    // The rate changes, not the line: its limit and status as the re-decision left them.
    fromLimit: line.row.limit_amount,
    toLimit: line.row.limit_amount,
    fromStatus: line.row.status as Decision["fromStatus"],
    toStatus: line.row.status as Decision["toStatus"],
    effectiveAt,
    requiresReview: increase && line.optOutAutomated,
    reasons,
    rate: { from: withoutPending(current), to: offered },
  };
  const status = !increase ? "applied" : output.requiresReview ? "pending_review" : "scheduled";
  const row: DecisionTable = {
    id,
    idempotency_key: key,
    account_id: line.row.account_id,
    trigger_kind: input.trigger.kind,
    action: output.action,
    rule_id: null,
    adverse: increase ? 1 : 0,
    status,
    from_limit: output.fromLimit,
    to_limit: output.toLimit,
    from_status: output.fromStatus,
    to_status: output.toStatus,
    score: decision.score,
    decided_at: now,
    effective_at: effectiveAt,
    recorded_at: writes.recordedAt,
    policy_version: decision.policyVersion,
    model_version: writes.engine.model.version,
    input: JSON.stringify(input),
    output: JSON.stringify(output),
  };
  writes.decisions.push(row);
  writes.seal("decision", id, decisionBodyHash(row));
  const change: RateChangeTable = {
    id: deterministicId("rat", id),
    decision_id: id,
    account_id: line.row.account_id,
    from_rate_bps: current.rate,
    to_rate_bps: offered.rate,
    from_terms: JSON.stringify(output.rate.from),
    to_terms: JSON.stringify(offered),
    created_at: writes.recordedAt,
  };
  writes.rateChanges.push(change);
  writes.seal("rate_change", change.id, rateChangeBodyHash(change));
  if (increase) {
    const recourse = recourseRecord(
      id,
      line.row.account_id,
      rateRecourse(policy, pricing, current, offered, effectiveAt),
      line.state,
      writes.recordedAt,
    );
    writes.addRecourse(id, recourse);
    setLineRate(line, { ...current, pending: { decisionId: id, rate: offered.rate, effectiveAt } });
  } else {
    setLineRate(line, { ...offered, pending: null });
  }
  writes.notify(line, row, increase ? status : "line_changed", {
    reasons,
    recall: false,
    rate: { from: current.rate, to: offered.rate },
  });
}

export function withoutPending(terms: LineRateTerms): LineRate {
  const { pending: _, ...rate } = terms;
  return rate;
}

async function changeOf(trx: Transaction<Database>, decisionId: string): Promise<RateChangeTable> {
  return trx
    .selectFrom("rate_changes")
    .selectAll()
    .where("decision_id", "=", decisionId)
    .executeTakeFirstOrThrow();
}

/**
 * An announced increase whose notice period has run (or that a reviewer upheld after it): the
 * line's new drawdowns are priced at the new rate from now. False when it was superseded.
 */
export async function applyRateDecision(
  trx: Transaction<Database>,
  writes: WriteSet,
  line: LineRecord,
  decision: DecisionTable,
): Promise<boolean> {
  const terms = lineRate(line);
  if (terms?.pending?.decisionId !== decision.id) return false;
  const change = await changeOf(trx, decision.id);
  setLineRate(line, { ...(JSON.parse(change.to_terms) as LineRate), pending: null });
  writes.notify(line, decision, "action_applied", {
    reasons: [],
    recall: false,
    rate: { from: change.from_rate_bps, to: change.to_rate_bps },
  });
  return true;
}

/** A reviewer reversed a rate increase: cancelled while announced, the old rate back once applied. */
export async function reverseRateDecision(
  trx: Transaction<Database>,
  line: LineRecord,
  decision: DecisionTable,
): Promise<void> {
  const terms = lineRate(line);
  if (terms === null) return;
  if (terms.pending?.decisionId === decision.id) {
    setLineRate(line, { ...terms, pending: null });
    return;
  }
  const from = JSON.parse((await changeOf(trx, decision.id)).from_terms) as LineRate;
  // Only ever down: a decrease since then is kept.
  if (from.rate < terms.rate) setLineRate(line, { ...from, pending: terms.pending });
}
