import { type LineStatus, tierFor } from "../engine/decide.ts";
import { readFeatures } from "../engine/features.ts";
import type { Fen } from "../engine/money.ts";
import { type PricedRate, priceRate } from "../engine/pricing/rate.ts";
import { buildSchedule, type RepaymentMethod, type RepaymentSchedule } from "../engine/pricing/schedule.ts";
import type { Store } from "../store/connect.ts";
import type { DrawdownTable } from "../store/schema.ts";
import type { ActiveEngine } from "./engineConfig.ts";
import type { LineRecord } from "./lineBook.ts";
import { loadLines } from "./lineLoader.ts";

export interface DrawdownTerms {
  amount: Fen;
  termMonths: number;
  repayment: RepaymentMethod;
}

export interface DrawdownQuote {
  tier: string;
  score: number;
  rate: PricedRate;
  schedule: RepaymentSchedule;
}

/**
 * What a drawdown costs on this line now: the rate for the borrower's current tier and features,
 * and the schedule it implies. The same function prices the quote shown before drawing and the
 * drawdown itself, so the borrower pays what they were shown.
 */
export function quoteDrawdown(
  engine: ActiveEngine,
  line: LineRecord,
  terms: DrawdownTerms,
  at: number,
): DrawdownQuote {
  const features = readFeatures(line.state, { limit: line.row.limit_amount, balance: line.row.balance }, at);
  const scored = engine.scorer(features);
  const tier = tierFor(engine.policy, features, scored.score, line.row.status as LineStatus).id;
  const rate = priceRate(engine.pricing, tier, { ...features, score: scored.score });
  const schedule = buildSchedule({
    principal: terms.amount,
    annualRate: rate.rate,
    months: terms.termMonths,
    method: terms.repayment,
    drawnAt: at,
  });
  return { tier, score: scored.score, rate, schedule };
}

export function drawdownRow(
  engine: ActiveEngine,
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
    pricing_product: engine.pricing.product,
    policy_version: engine.policy.version,
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
