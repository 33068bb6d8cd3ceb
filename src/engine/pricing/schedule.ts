import { assertFen, type Fen } from "../money.ts";
import { type EpochMs, MS_PER_DAY } from "../time.ts";

/** Basis points: 2,400 bps is 24% a year. Rates are whole numbers so schedules are exact. */
export type Bps = number;

export const BPS_PER_UNIT = 10_000;
export const MAX_TERM_MONTHS = 60;

export const REPAYMENT_METHODS = ["equal_instalment", "interest_first"] as const;
export type RepaymentMethod = (typeof REPAYMENT_METHODS)[number];

export interface ScheduleTerms {
  principal: Fen;
  annualRate: Bps;
  months: number;
  method: RepaymentMethod;
  drawnAt: EpochMs;
}

export interface Instalment {
  /** 1-based. */
  number: number;
  dueAt: EpochMs;
  principal: Fen;
  interest: Fen;
  total: Fen;
  balanceAfter: Fen;
}

export interface RepaymentSchedule {
  terms: ScheduleTerms;
  instalments: Instalment[];
  totalInterest: Fen;
  totalRepayable: Fen;
  /** Effective annual rate of the flows, (1 + monthly)^12 - 1, as shown to the borrower. */
  effectiveAnnualRate: number;
}

/** One month's interest on a balance, rounded half up to the fen. */
export function monthlyInterest(balance: Fen, annualRate: Bps): Fen {
  return Math.round((balance * annualRate) / (12 * BPS_PER_UNIT));
}

/**
 * The same day of the month `months` later, clamped to the month's last day (31 Jan -> 28 Feb),
 * at the same time of day, in UTC. Calendar arithmetic on day numbers: every instalment of every
 * drawdown's schedule comes through here, and through Date objects this took longer than the rest
 * of pricing a drawdown.
 */
export function addMonths(at: EpochMs, months: number): EpochMs {
  const days = Math.floor(at / MS_PER_DAY);
  const timeOfDay = at - days * MS_PER_DAY;
  const [year, month, day] = civilFromDays(days);
  const index = year * 12 + (month - 1) + months;
  const toYear = Math.floor(index / 12);
  const toMonth = index - toYear * 12 + 1;
  return daysFromCivil(toYear, toMonth, Math.min(day, daysInMonth(toYear, toMonth))) * MS_PER_DAY + timeOfDay;
}

/** Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** [year, month 1-12, day 1-31] of a day number from 1970-01-01 (civil_from_days). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function validateTerms(terms: ScheduleTerms): void {
  assertFen(terms.principal, "principal");
  if (terms.principal <= 0) throw new RangeError("principal must be positive");
  if (!Number.isInteger(terms.annualRate) || terms.annualRate < 0 || terms.annualRate > BPS_PER_UNIT) {
    throw new RangeError(`annual rate must be whole basis points from 0 to ${BPS_PER_UNIT}`);
  }
  if (!Number.isInteger(terms.months) || terms.months < 1 || terms.months > MAX_TERM_MONTHS) {
    throw new RangeError(`term must be 1 to ${MAX_TERM_MONTHS} whole months`);
  }
}

/**
 * The repayment schedule of a drawdown. Each instalment is its interest on the balance plus a
 * share of principal, and the last takes whatever principal is left, so the instalments always
 * sum exactly to principal plus interest, in fen.
 */
export function buildSchedule(terms: ScheduleTerms): RepaymentSchedule {
  validateTerms(terms);
  const level = terms.method === "equal_instalment" ? levelPayment(terms) : 0;
  const instalments: Instalment[] = [];
  let balance = terms.principal;
  for (let n = 1; n <= terms.months; n++) {
    const interest = monthlyInterest(balance, terms.annualRate);
    const last = n === terms.months;
    const principal = last
      ? balance
      : terms.method === "equal_instalment"
        ? Math.min(balance, Math.max(0, level - interest))
        : 0;
    balance -= principal;
    instalments.push({
      number: n,
      dueAt: addMonths(terms.drawnAt, n),
      principal,
      interest,
      total: principal + interest,
      balanceAfter: balance,
    });
  }
  return summarise(terms, instalments);
}

export function summarise(terms: ScheduleTerms, instalments: Instalment[]): RepaymentSchedule {
  const totalInterest = instalments.reduce((sum, i) => sum + i.interest, 0);
  const monthly = terms.annualRate / 12 / BPS_PER_UNIT;
  return {
    terms,
    instalments,
    totalInterest,
    totalRepayable: terms.principal + totalInterest,
    effectiveAnnualRate: (1 + monthly) ** 12 - 1,
  };
}

/** The level payment of an amortising loan, rounded to the fen. */
function levelPayment(terms: ScheduleTerms): Fen {
  const r = terms.annualRate / 12 / BPS_PER_UNIT;
  if (r === 0) return Math.ceil(terms.principal / terms.months);
  return Math.round((terms.principal * r) / (1 - (1 + r) ** -terms.months));
}
