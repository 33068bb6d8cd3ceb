import type { CreditEvent } from "./events.ts";
import { isProhibitedPurpose } from "./events.ts";
import type { Fen } from "./money.ts";
import { daysBetween, type EpochMs, MS_PER_DAY } from "./time.ts";

/**
 * The single place that names the behavioural features: their meaning, their unit, and which
 * direction hurts the borrower. Reasons, recourse and the console all read this table.
 */
export const FEATURES = {
  dpd: { en: "days past due now", zh: "当前逾期天数", unit: "days", adverse: "higher" },
  overdueCount12m: {
    en: "overdue instalments in 12 months",
    zh: "近12个月逾期次数",
    unit: "count",
    adverse: "higher",
  },
  inquiries30d: {
    en: "credit inquiries in 30 days",
    zh: "近30天征信查询次数",
    unit: "count",
    adverse: "higher",
  },
  inquiries90d: {
    en: "credit inquiries in 90 days",
    zh: "近90天征信查询次数",
    unit: "count",
    adverse: "higher",
  },
  otherLenders: { en: "loans open at other lenders", zh: "其他机构在贷数", unit: "count", adverse: "higher" },
  newLenders90d: {
    en: "new lenders in 90 days",
    zh: "近90天新增借贷机构数",
    unit: "count",
    adverse: "higher",
  },
  utilisation: { en: "share of the line in use", zh: "额度使用率", unit: "ratio", adverse: "higher" },
  debtToIncome: {
    en: "monthly debt payments to income",
    zh: "月负债收入比",
    unit: "ratio",
    adverse: "higher",
  },
  incomeChange: { en: "change in verified income", zh: "收入变化", unit: "ratio", adverse: "lower" },
  monthsOnBook: { en: "months with us", zh: "在本平台月数", unit: "months", adverse: "lower" },
  loginAnomalies30d: {
    en: "unusual logins in 30 days",
    zh: "近30天异常登录次数",
    unit: "count",
    adverse: "higher",
  },
  prohibitedUse90d: {
    en: "funds used for prohibited purposes in 90 days",
    zh: "近90天资金违规用途次数",
    unit: "count",
    adverse: "higher",
  },
  fraudFlag: { en: "fraud reported", zh: "欺诈报告", unit: "flag", adverse: "higher" },
  monthlyIncome: {
    en: "monthly income on file (fen)",
    zh: "登记月收入（分）",
    unit: "fen",
    adverse: "lower",
  },
} as const;

export type FeatureName = keyof typeof FEATURES;
export type Features = Record<FeatureName, number>;
export const FEATURE_NAMES = Object.keys(FEATURES) as FeatureName[];

/** Limits on the bounded histories kept per account (TigerBeetle style: everything has a limit). */
export const FEATURE_LIMITS = { openDues: 36, timestamps: 64, lenders: 64, deferrals: 8 } as const;

export interface OpenDue {
  id: string;
  dueAt: EpochMs;
  remaining: Fen;
}

/** Incrementally maintained, JSON-serialisable state from which features are read at any instant. */
export interface FeatureState {
  openedAt: EpochMs;
  declaredIncome: Fen;
  verifiedIncome: Fen | null;
  previousVerifiedIncome: Fen | null;
  lastDueAmount: Fen;
  openDues: OpenDue[];
  lateDueDates: EpochMs[];
  inquiries: EpochMs[];
  lenders: Record<string, Lender>;
  lenderOpenings: EpochMs[];
  loginAnomalies: EpochMs[];
  prohibitedUses: EpochMs[];
  fraudAt: EpochMs | null;
  lastEventAt: EpochMs;
  /**
   * Payment holidays of accepted hardship programs: a due falling inside one is owed at its end,
   * so it does not count as overdue meanwhile. Absent on lines that never had one.
   */
  deferrals?: Deferral[];
}

export interface Lender {
  openedAt: EpochMs;
  monthlyPayment: Fen;
}

export interface Deferral {
  from: EpochMs;
  until: EpochMs;
  programId: string;
}

/** When a due is really owed: its date, or the end of the payment holiday it falls in. */
export function owedAt(state: FeatureState, dueAt: EpochMs): EpochMs {
  for (const d of state.deferrals ?? []) if (dueAt >= d.from && dueAt < d.until) return d.until;
  return dueAt;
}

/** Adds a payment holiday (at most FEATURE_LIMITS.deferrals are kept: the latest). */
export function deferDues(state: FeatureState, deferral: Deferral): void {
  const list = state.deferrals ?? [];
  list.push(deferral);
  state.deferrals = list.slice(-FEATURE_LIMITS.deferrals);
}

/**
 * Records a loan at another lender under its name. The name is the bureau's text, so it is set as
 * an own property: assigning `lenders["__proto__"]` would replace the map's prototype instead and
 * hide the loan from every count, and `in` would find "toString" held before it ever was.
 */
export function setLender(lenders: FeatureState["lenders"], name: string, loan: Lender): void {
  // Only "__proto__" needs it: defining a property turns the map into a slow dictionary.
  if (name === "__proto__")
    Object.defineProperty(lenders, name, {
      value: loan,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else lenders[name] = loan;
}

export function emptyFeatureState(openedAt: EpochMs, declaredIncome: Fen): FeatureState {
  return {
    openedAt,
    declaredIncome,
    verifiedIncome: null,
    previousVerifiedIncome: null,
    lastDueAmount: 0,
    openDues: [],
    lateDueDates: [],
    inquiries: [],
    lenders: {},
    lenderOpenings: [],
    loginAnomalies: [],
    prohibitedUses: [],
    fraudAt: null,
    lastEventAt: openedAt,
  };
}

/** A due paid within a day of its date is on time. */
export const GRACE_MS = MS_PER_DAY;

function pushBounded(list: EpochMs[], at: EpochMs, limit: number): void {
  list.push(at);
  if (list.length > limit) list.splice(0, list.length - limit);
}

function applyRepayment(state: FeatureState, amount: Fen, dueId: string | undefined, at: EpochMs): void {
  let left = amount;
  const targeted = dueId === undefined ? -1 : state.openDues.findIndex((d) => d.id === dueId);
  const order = targeted >= 0 ? [targeted] : state.openDues.map((_, i) => i);
  for (const index of order) {
    const due = state.openDues[index];
    if (due === undefined || left <= 0) break;
    const paid = Math.min(left, due.remaining);
    due.remaining -= paid;
    left -= paid;
    if (due.remaining === 0 && at > owedAt(state, due.dueAt) + GRACE_MS) {
      pushBounded(state.lateDueDates, due.dueAt, FEATURE_LIMITS.timestamps);
    }
  }
  state.openDues = state.openDues.filter((d) => d.remaining > 0);
}

/**
 * Folds one event into the state. Mutates and returns `state` (callers own a private copy) so
 * the ingest hot path allocates nothing per event beyond what the event itself adds.
 */
export function applyEvent(
  state: FeatureState,
  event: CreditEvent,
  at: EpochMs,
  /** The policy's prohibited purposes (compiled(policy).prohibitedPurposes); the default list if absent. */
  prohibited?: ReadonlySet<string>,
): FeatureState {
  state.lastEventAt = Math.max(state.lastEventAt, at);
  switch (event.type) {
    case "account_opened":
      state.openedAt = at;
      state.declaredIncome = event.data.declaredMonthlyIncome;
      break;
    case "repayment_due": {
      const dueAt = Date.parse(event.data.dueAt);
      state.openDues.push({ id: event.data.dueId, dueAt, remaining: event.data.amount });
      state.openDues.sort((a, b) => a.dueAt - b.dueAt);
      if (state.openDues.length > FEATURE_LIMITS.openDues) {
        throw new RangeError(`account ${event.accountId} has more than ${FEATURE_LIMITS.openDues} open dues`);
      }
      state.lastDueAmount = event.data.amount;
      break;
    }
    case "repayment_made":
      applyRepayment(state, event.data.amount, event.data.dueId, at);
      break;
    case "bureau_inquiry":
      pushBounded(state.inquiries, at, FEATURE_LIMITS.timestamps);
      break;
    case "external_loan_opened":
      if (
        Object.keys(state.lenders).length < FEATURE_LIMITS.lenders ||
        Object.hasOwn(state.lenders, event.data.lender)
      ) {
        setLender(state.lenders, event.data.lender, {
          openedAt: at,
          monthlyPayment: event.data.monthlyPayment,
        });
      }
      pushBounded(state.lenderOpenings, at, FEATURE_LIMITS.timestamps);
      break;
    case "external_loan_closed":
      delete state.lenders[event.data.lender];
      break;
    case "income_verified":
      state.previousVerifiedIncome = state.verifiedIncome ?? state.declaredIncome;
      state.verifiedIncome = event.data.monthlyIncome;
      break;
    case "login":
      if (event.data.anomalous) pushBounded(state.loginAnomalies, at, FEATURE_LIMITS.timestamps);
      break;
    case "transaction":
      if (isProhibitedPurpose(event.data.category, prohibited))
        pushBounded(state.prohibitedUses, at, FEATURE_LIMITS.timestamps);
      break;
    case "drawdown":
      if (isProhibitedPurpose(event.data.purpose, prohibited))
        pushBounded(state.prohibitedUses, at, FEATURE_LIMITS.timestamps);
      break;
    case "fraud_reported":
      state.fraudAt = at;
      break;
  }
  return state;
}

function countSince(list: readonly EpochMs[], since: EpochMs, now: EpochMs): number {
  let n = 0;
  for (const at of list) if (at >= since && at <= now) n++;
  return n;
}

export interface LineExposure {
  limit: Fen;
  balance: Fen;
}

/** Reads every feature as of `now`. Windows are evaluated at read time, so they age without events. */
export function readFeatures(state: FeatureState, line: LineExposure, now: EpochMs): Features {
  let oldestOwed = Number.POSITIVE_INFINITY;
  let currentlyOverdue = 0;
  for (const d of state.openDues) {
    const owed = owedAt(state, d.dueAt);
    if (owed + GRACE_MS >= now) continue;
    currentlyOverdue++;
    oldestOwed = Math.min(oldestOwed, owed);
  }
  const dpd = currentlyOverdue === 0 ? 0 : daysBetween(oldestOwed, now);
  let externalMonthly = 0;
  for (const lender of Object.values(state.lenders)) externalMonthly += lender.monthlyPayment;
  const income = state.verifiedIncome ?? state.declaredIncome;
  const obligations = externalMonthly + state.lastDueAmount;
  const previousIncome = state.previousVerifiedIncome;
  return {
    dpd,
    overdueCount12m: countSince(state.lateDueDates, now - 365 * MS_PER_DAY, now) + currentlyOverdue,
    inquiries30d: countSince(state.inquiries, now - 30 * MS_PER_DAY, now),
    inquiries90d: countSince(state.inquiries, now - 90 * MS_PER_DAY, now),
    otherLenders: Object.keys(state.lenders).length,
    newLenders90d: countSince(state.lenderOpenings, now - 90 * MS_PER_DAY, now),
    utilisation: line.limit > 0 ? Math.min(line.balance / line.limit, 2) : line.balance > 0 ? 2 : 0,
    debtToIncome: income > 0 ? Math.min(obligations / income, 10) : obligations > 0 ? 10 : 0,
    incomeChange:
      previousIncome !== null && previousIncome > 0 && state.verifiedIncome !== null
        ? state.verifiedIncome / previousIncome - 1
        : 0,
    monthsOnBook: Math.max(0, Math.floor(daysBetween(state.openedAt, now) / 30)),
    loginAnomalies30d: countSince(state.loginAnomalies, now - 30 * MS_PER_DAY, now),
    prohibitedUse90d: countSince(state.prohibitedUses, now - 90 * MS_PER_DAY, now),
    fraudFlag: state.fraudAt !== null && state.fraudAt <= now ? 1 : 0,
    monthlyIncome: income,
  };
}

/** Monthly income the ability-to-pay check may rely on: verified if we have it, else declared. */
export function incomeForAffordability(state: FeatureState): { income: Fen; verified: boolean } {
  return state.verifiedIncome !== null
    ? { income: state.verifiedIncome, verified: true }
    : { income: state.declaredIncome, verified: false };
}

/** Monthly payments the borrower owes: other lenders' instalments plus this line's last due. */
export function monthlyObligations(state: FeatureState): Fen {
  let external = 0;
  for (const lender of Object.values(state.lenders)) external += lender.monthlyPayment;
  return external + state.lastDueAmount;
}
