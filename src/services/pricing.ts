import { type LineStatus, tierFor } from "../engine/decide.ts";
import { readFeatures } from "../engine/features.ts";
import type { Fen } from "../engine/money.ts";
import { type PricedRate, priceRate, pricingFor } from "../engine/pricing/rate.ts";
import type { LineRate } from "../engine/pricing/rateChange.ts";
import {
  type Bps,
  buildSchedule,
  type RepaymentMethod,
  type RepaymentSchedule,
} from "../engine/pricing/schedule.ts";
import type { Store } from "../store/connect.ts";
import type { DrawdownTable } from "../store/schema.ts";
import { type ActiveEngine, contextFor } from "./engineConfig.ts";
import type { LineRecord } from "./lineBook.ts";
import { loadLines } from "./lineLoader.ts";
import { lineRate, withoutPending } from "./rateChanges.ts";

export interface DrawdownTerms {
  amount: Fen;
  termMonths: number;
  repayment: RepaymentMethod;
}

export interface DrawdownQuote {
  tier: string;
  rate: PricedRate;
  /** The line's rate in force (with the policy version that set it), which the drawdown takes. */
  lineRate: LineRate;
  /** An increase announced on the line: it applies to drawdowns from its date, not to this one. */
  announced: { rate: Bps; effectiveAt: number } | null;
  schedule: RepaymentSchedule;
}

/** The rate a line not yet priced would get now: its current tier and features. */
function priceNow(engine: ActiveEngine, line: LineRecord, at: number): LineRate {
  const features = readFeatures(line.state, { limit: line.row.limit_amount, balance: line.row.balance }, at);
  const scored = engine.scorer(features);
  const policy = contextFor(engine, line.row.account_id).policy;
  const tier = tierFor(policy, features, scored.score, line.row.status as LineStatus).id;
  const rate = priceRate(pricingFor(engine.pricing, policy), tier, { ...features, score: scored.score });
  return { ...rate, tier, policyVersion: policy.version, product: engine.pricing.product };
}

/**
 * What a drawdown costs on this line now: the line's rate in force (an announced increase waits
 * out its notice) and the schedule it implies. The same function prices the quote shown before
 * drawing and the drawdown itself, so the borrower pays what they were shown.
 */
export function quoteDrawdown(
  engine: ActiveEngine,
  line: LineRecord,
  terms: DrawdownTerms,
  at: number,
): DrawdownQuote {
  const inForce = lineRate(line);
  const rate: LineRate = inForce === null ? priceNow(engine, line, at) : inForce;
  const pending = inForce?.pending ?? null;
  const schedule = buildSchedule({
    principal: terms.amount,
    annualRate: rate.rate,
    months: terms.termMonths,
    method: terms.repayment,
    drawnAt: at,
  });
  return {
    tier: rate.tier,
    rate: { rate: rate.rate, basis: rate.basis },
    lineRate: inForce === null ? rate : withoutPending(inForce),
    announced: pending === null ? null : { rate: pending.rate, effectiveAt: pending.effectiveAt },
    schedule,
  };
}

export function drawdownRow(
  accountId: string,
  eventId: string,
  quote: DrawdownQuote,
  recordedAt: number,
): DrawdownTable {
  const { terms } = quote.schedule;
  return {
    id: `${accountId}:${eventId}`,
    account_id: accountId,
    event_id: eventId,
    amount: terms.principal,
    rate_bps: quote.rate.rate,
    rate_basis: JSON.stringify(quote.rate.basis),
    pricing_product: quote.lineRate.product,
    policy_version: quote.lineRate.policyVersion,
    repayment: terms.method,
    term_months: terms.months,
    total_interest: quote.schedule.totalInterest,
    drawn_at: terms.drawnAt,
    recorded_at: recordedAt,
  };
}

/** A quote for an account as it stands (read-only: nothing is drawn or stored). */
export async function quoteForAccount(
  deps: { store: Store; engine: ActiveEngine },
  accountId: string,
  terms: DrawdownTerms,
  at: number,
): Promise<DrawdownQuote | null> {
  const lines = await deps.store.db.transaction().execute((trx) => loadLines(trx, deps.store, [accountId]));
  const line = lines.get(accountId);
  return line === undefined ? null : quoteDrawdown(deps.engine, line, terms, at);
}

/** A drawdown's schedule as drawn: the terms determine it, so it is rebuilt rather than stored. */
export function scheduleOf(d: DrawdownTable): RepaymentSchedule {
  return buildSchedule({
    principal: d.amount,
    annualRate: d.rate_bps,
    months: d.term_months,
    method: d.repayment as RepaymentMethod,
    drawnAt: d.drawn_at,
  });
}

export async function listDrawdowns(store: Store, accountId: string): Promise<DrawdownTable[]> {
  return store.db
    .selectFrom("drawdowns")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("drawn_at", "desc")
    .limit(MAX_DRAWDOWNS_LISTED)
    .execute();
}

const MAX_DRAWDOWNS_LISTED = 200;

const iso = (at: number) => new Date(at).toISOString();

/** A quote as the API answers it (and the console shows it before the borrower draws). */
export function quoteView(accountId: string, quote: DrawdownQuote) {
  return {
    accountId,
    tier: quote.tier,
    annualRateBps: quote.rate.rate,
    rateBasis: quote.rate.basis,
    announced:
      quote.announced === null
        ? null
        : { annualRateBps: quote.announced.rate, effectiveAt: iso(quote.announced.effectiveAt) },
    effectiveAnnualRate: quote.schedule.effectiveAnnualRate,
    totalInterest: quote.schedule.totalInterest,
    totalRepayable: quote.schedule.totalRepayable,
    instalments: quote.schedule.instalments.map((i) => ({ ...i, dueAt: iso(i.dueAt) })),
  };
}

export type DrawdownQuoteView = ReturnType<typeof quoteView>;
