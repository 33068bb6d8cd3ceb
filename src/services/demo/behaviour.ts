import {
  type CreditEvent,
  LOAN_PURPOSES,
  PROHIBITED_PURPOSES,
  REGIONS,
  SEGMENTS,
} from "../../engine/events.ts";
import { yuan } from "../../engine/money.ts";
import type { Random } from "../../engine/random.ts";
import { MS_PER_DAY } from "../../engine/time.ts";
import type { BorrowerProfile } from "./borrowerProfiles.ts";

const MONTH_MS = 30 * MS_PER_DAY;
const SAFE_PURPOSES = LOAN_PURPOSES.filter((p) => !(PROHIBITED_PURPOSES as readonly string[]).includes(p));

/**
 * Months of one borrower's behaviour as events: opening, other lenders, monthly drawdowns and
 * dues, on-time, late or missed repayments, inquiries, income checks, logins, rare misuse and fraud.
 * Risky profiles (real bad outcome, past lates, high utilisation) behave worse, as they do in life.
 */
/** Drawdown terms vary through the months (not drawn at random, so the event stream stays as it was). */
const DEMO_TERMS = [3, 6, 12, 24];
/** Demo borrowers consent to bureau data at opening; every bureau record cites that consent. */
const DEMO_CONSENT = { consentId: "demo-consent-at-opening", purpose: "line_management" } as const;

export function borrowerEvents(
  index: number,
  profile: BorrowerProfile,
  random: Random,
  start: number,
  months: number,
  end: number,
): CreditEvent[] {
  const accountId = `acc_${String(index).padStart(7, "0")}`;
  const events: CreditEvent[] = [];
  let seq = 0;
  const at = (t: number) => new Date(Math.min(t, end)).toISOString();
  const id = () => `${accountId}-e${seq++}`;
  const risk = (profile.bad ? 0.3 : 0.02) + 0.03 * profile.pastLates + 0.05 * profile.utilisation;
  const income = yuan(profile.monthlyIncomeYuan);
  const limit = Math.min(
    yuan(50_000),
    Math.max(yuan(2000), Math.round((income * 2) / yuan(1000)) * yuan(1000)),
  );
  const opened = start + random.int(10) * MS_PER_DAY;
  events.push({
    id: id(),
    accountId,
    type: "account_opened",
    occurredAt: at(opened),
    data: {
      borrowerId: `bor_${String(index).padStart(7, "0")}`,
      region: random.pick(REGIONS),
      segment:
        profile.age > 62 ? "retired" : profile.age < 23 ? "student" : random.pick(SEGMENTS.slice(0, 2)),
      declaredMonthlyIncome: income,
      initialLimit: limit,
      consentBureau: true,
      optOutAutomated: random.next() < 0.02,
    },
  });
  const lenders = Math.min(profile.openLoans, 8);
  for (let l = 0; l < lenders; l++) {
    events.push({
      id: id(),
      accountId,
      type: "external_loan_opened",
      occurredAt: at(opened + MS_PER_DAY * (1 + l)),
      data: {
        lender: `lender_${l}`,
        consent: DEMO_CONSENT,
        amount: yuan(5000 + random.int(50_000)),
        monthlyPayment: Math.round((income * profile.debtRatio * 0.5) / Math.max(1, lenders)),
      },
    });
  }
  let missedStreak = false;
  for (let m = 0; m < months; m++) {
    const monthStart = opened + m * MONTH_MS;
    if (monthStart > end) break;
    const draw = Math.round((limit * profile.utilisation * (0.3 + random.next() * 0.4)) / 100) * 100;
    if (draw > 0) {
      const misuse = random.next() < (profile.bad ? 0.01 : 0.001);
      events.push({
        id: id(),
        accountId,
        type: "drawdown",
        occurredAt: at(monthStart + MS_PER_DAY * (1 + random.int(10))),
        data: {
          drawdownId: `${accountId}-d${m}`,
          amount: draw,
          purpose: misuse ? random.pick(PROHIBITED_PURPOSES) : random.pick(SAFE_PURPOSES),
          termMonths: DEMO_TERMS[m % DEMO_TERMS.length] as number,
          repayment: m % 4 === 3 ? "interest_first" : "equal_instalment",
        },
      });
    }
    const dueAt = monthStart + 25 * MS_PER_DAY;
    const dueAmount = Math.max(yuan(100), Math.round(draw * 0.1));
    const dueId = `${accountId}-due${m}`;
    events.push({
      id: id(),
      accountId,
      type: "repayment_due",
      occurredAt: at(monthStart + 15 * MS_PER_DAY),
      data: { dueId, amount: dueAmount, dueAt: new Date(dueAt).toISOString() },
    });
    const roll = random.next();
    missedStreak = missedStreak ? roll < 0.7 : roll < risk * 0.3;
    if (!missedStreak) {
      const late = roll < risk ? 5 + random.int(40) : -random.int(5);
      if (dueAt + late * MS_PER_DAY <= end) {
        events.push({
          id: id(),
          accountId,
          type: "repayment_made",
          occurredAt: at(dueAt + late * MS_PER_DAY),
          data: { dueId, amount: dueAmount },
        });
      }
    }
    const inquiries = random.poisson(0.2 + risk * 3);
    for (let q = 0; q < inquiries; q++) {
      events.push({
        id: id(),
        accountId,
        type: "bureau_inquiry",
        occurredAt: at(monthStart + random.int(30) * MS_PER_DAY),
        data: { lender: `lender_${random.int(40)}`, purpose: "credit_application", consent: DEMO_CONSENT },
      });
    }
    if (random.next() < risk * 0.5) {
      events.push({
        id: id(),
        accountId,
        type: "external_loan_opened",
        occurredAt: at(monthStart + random.int(30) * MS_PER_DAY),
        data: {
          lender: `lender_new_${m}`,
          consent: DEMO_CONSENT,
          amount: yuan(3000 + random.int(20_000)),
          monthlyPayment: yuan(300 + random.int(1500)),
        },
      });
    }
    if (m === 2) {
      const change = profile.bad ? 0.8 + random.next() * 0.3 : 0.95 + random.next() * 0.25;
      events.push({
        id: id(),
        accountId,
        type: "income_verified",
        occurredAt: at(monthStart + 5 * MS_PER_DAY),
        data: { monthlyIncome: Math.round(income * change), source: "payroll" },
      });
    }
    events.push({
      id: id(),
      accountId,
      type: "login",
      occurredAt: at(monthStart + random.int(30) * MS_PER_DAY),
      data: { deviceId: `dev_${random.int(3)}`, anomalous: random.next() < 0.01 },
    });
  }
  if (random.next() < 0.0005) {
    events.push({
      id: id(),
      accountId,
      type: "fraud_reported",
      occurredAt: at(end - MS_PER_DAY),
      data: { source: "device_risk" },
    });
  }
  return events;
}
