import type { EpochMs } from "../time.ts";
import { percent } from "./rateChange.ts";
import {
  addMonths,
  type Bps,
  buildSchedule,
  type Instalment,
  MAX_TERM_MONTHS,
  type RepaymentMethod,
} from "./schedule.ts";

/** What a hardship program offers, instead of cutting the line or calling the loan. */
export type Relief =
  | { kind: "payment_holiday"; months: number }
  | { kind: "rate_reduction"; cut: Bps }
  | { kind: "term_extension"; months: number };

export const RELIEF_KINDS = ["payment_holiday", "rate_reduction", "term_extension"] as const;

/** What a relief does, as a borrower's notice says it. */
export function reliefText(relief: Relief): { en: string; zh: string } {
  switch (relief.kind) {
    case "payment_holiday":
      return {
        en: `no repayments for ${relief.months} month${relief.months === 1 ? "" : "s"}, with no interest for the pause`,
        zh: `暂停还款${relief.months}个月，暂停期间不计利息`,
      };
    case "rate_reduction":
      return {
        en: `the annual rate of your drawdowns lowered by ${percent(relief.cut)}`,
        zh: `您已支用款项的年利率降低${percent(relief.cut)}`,
      };
    case "term_extension":
      return {
        en: `repayments spread over ${relief.months} more month${relief.months === 1 ? "" : "s"}, so each is smaller`,
        zh: `还款期延长${relief.months}个月，每期还款相应减少`,
      };
  }
}

export interface ScheduledDrawdown {
  instalments: Instalment[];
  annualRate: Bps;
  method: RepaymentMethod;
  drawnAt: EpochMs;
}

/**
 * The schedule after relief taken at `at`: instalments already due stay as they were; the rest is
 * moved (holiday, no interest for the pause), repriced at the lower rate, or spread over more
 * months. Whatever the relief, the new instalments repay exactly the balance still owed.
 */
export function applyRelief(drawdown: ScheduledDrawdown, relief: Relief, at: EpochMs): Instalment[] {
  const kept = drawdown.instalments.filter((i) => i.dueAt < at);
  const rest = drawdown.instalments.filter((i) => i.dueAt >= at);
  if (rest.length === 0) return drawdown.instalments;
  const last = kept.at(-1);
  const owed = last === undefined ? rest.reduce((t, i) => t + i.principal, 0) : last.balanceAfter;
  if (owed <= 0) return drawdown.instalments;
  if (relief.kind === "payment_holiday") {
    return [...kept, ...rest.map((i) => ({ ...i, dueAt: addMonths(i.dueAt, relief.months) }))];
  }
  const months =
    relief.kind === "term_extension" ? Math.min(MAX_TERM_MONTHS, rest.length + relief.months) : rest.length;
  const annualRate =
    relief.kind === "rate_reduction" ? Math.max(0, drawdown.annualRate - relief.cut) : drawdown.annualRate;
  const rebuilt = buildSchedule({
    principal: owed,
    annualRate,
    months,
    method: drawdown.method,
    drawnAt: last?.dueAt ?? drawdown.drawnAt,
  });
  return [...kept, ...rebuilt.instalments.map((i) => ({ ...i, number: i.number + kept.length }))];
}
