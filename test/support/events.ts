import type { CreditEvent } from "../../src/engine/events.ts";

/** Small builders for readable tests; every field is explicit in the event itself. */
export const iso = (at: number) => new Date(at).toISOString();

/** Bureau events carry the consent they were obtained under and their purpose. */
export const CONSENT = { consentId: "consent-1", purpose: "line_management" } as const;

export function opened(
  accountId: string,
  at: number,
  over: Partial<Extract<CreditEvent, { type: "account_opened" }>["data"]> = {},
): CreditEvent {
  return {
    id: `${accountId}-open`,
    accountId,
    type: "account_opened",
    occurredAt: iso(at),
    data: {
      borrowerId: `b-${accountId}`,
      region: "east",
      segment: "salaried",
      declaredMonthlyIncome: 1_000_000,
      initialLimit: 2_000_000,
      consentBureau: true,
      optOutAutomated: false,
      ...over,
    },
  };
}

export function inquiry(accountId: string, id: string, at: number): CreditEvent {
  return {
    id,
    accountId,
    type: "bureau_inquiry",
    occurredAt: iso(at),
    data: { lender: "other-bank", purpose: "credit_application", consent: CONSENT },
  };
}

export function due(accountId: string, id: string, at: number, dueAt: number, amount: number): CreditEvent {
  return {
    id,
    accountId,
    type: "repayment_due",
    occurredAt: iso(at),
    data: { dueId: `${id}-due`, amount, dueAt: iso(dueAt) },
  };
}

export function repaid(
  accountId: string,
  id: string,
  at: number,
  amount: number,
  dueId?: string,
): CreditEvent {
  return {
    id,
    accountId,
    type: "repayment_made",
    occurredAt: iso(at),
    data: { amount, ...(dueId === undefined ? {} : { dueId }) },
  };
}

export function drawdown(
  accountId: string,
  id: string,
  at: number,
  amount: number,
  purpose: "consumption" | "securities" = "consumption",
): CreditEvent {
  return {
    id,
    accountId,
    type: "drawdown",
    occurredAt: iso(at),
    data: { drawdownId: id, amount, purpose, termMonths: 12, repayment: "equal_instalment" },
  };
}

export function lenderOpened(accountId: string, id: string, at: number, lender: string): CreditEvent {
  return {
    id,
    accountId,
    type: "external_loan_opened",
    occurredAt: iso(at),
    data: { lender, amount: 500_000, monthlyPayment: 20_000, consent: CONSENT },
  };
}

export function fraud(accountId: string, id: string, at: number): CreditEvent {
  return { id, accountId, type: "fraud_reported", occurredAt: iso(at), data: { source: "device_risk" } };
}

/** Borrowing from 3 new lenders while applying widely (4 inquiries) before `at`: a noticed halving. */
export function multiLending(accountId: string, at: number): CreditEvent[] {
  const day = 86_400_000;
  const events: CreditEvent[] = [];
  for (let i = 0; i < 3; i++)
    events.push(lenderOpened(accountId, `${accountId}-l${i}`, at - (10 - i) * day, `lender-${i}`));
  for (let i = 0; i < 4; i++) events.push(inquiry(accountId, `${accountId}-q${i}`, at - (5 - i) * day));
  return events;
}

/** Payroll-verified monthly income (3,000,000 fen unless told): what an increase is decided on. */
export function incomeVerified(accountId: string, at: number, monthlyIncome = 3_000_000): CreditEvent {
  return {
    id: `${accountId}-income-${at}`,
    accountId,
    type: "income_verified",
    occurredAt: iso(at),
    data: { monthlyIncome, source: "payroll" },
  };
}

/**
 * A line opened at `t0` whose first due (paid nothing) is 95 days late by the inquiry at day 115:
 * read then, it is closed for serious delinquency, with a recourse to reopen.
 */
export function closedForDelinquency(accountId: string, t0: number): CreditEvent[] {
  const day = 86_400_000;
  return [
    opened(accountId, t0, { declaredMonthlyIncome: 1_500_000, initialLimit: 2_000_000 }),
    drawdown(accountId, "d1", t0 + day, 300_000),
    due(accountId, "u0", t0 + 10 * day, t0 + 20 * day, 30_000),
    inquiry(accountId, "q1", t0 + 115 * day),
  ];
}
