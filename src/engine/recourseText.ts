import type { Decision } from "./decide.ts";
import { FEATURES } from "./features.ts";
import { type Fen, formatYuan } from "./money.ts";
import type { RecourseGoal, RecourseStep } from "./recourse.ts";
import type { EpochMs } from "./time.ts";

/** Plain zh-CN and en sentences for a recourse: amounts in yuan, dates as a borrower writes them. */

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export function dateEn(at: EpochMs): string {
  const d = new Date(at);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

export function dateZh(at: EpochMs): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
}

function label(feature: keyof typeof FEATURES): { en: string; zh: string } {
  return { en: FEATURES[feature].en.replace(" (fen)", ""), zh: FEATURES[feature].zh.replace("（分）", "") };
}

export function stepText(step: RecourseStep): { en: string; zh: string } {
  switch (step.kind) {
    case "wait": {
      const l = label(step.feature);
      return step.atMost === 0
        ? {
            en: `you have no ${l.en} (make no new ones; by ${dateEn(step.by)})`,
            zh: `${l.zh}降为0（期间不再新增，${dateZh(step.by)}起）`,
          }
        : {
            en: `your ${l.en} are ${step.atMost} or fewer (make no new ones; by ${dateEn(step.by)})`,
            zh: `${l.zh}不超过${step.atMost}次（期间不再新增，${dateZh(step.by)}起）`,
          };
    }
    case "repay_overdue":
      return {
        en: `you repay the overdue ${formatYuan(step.amount)} yuan`,
        zh: `还清逾期的${formatYuan(step.amount)}元`,
      };
    case "reduce_balance":
      return {
        en: `you repay ${formatYuan(step.amount)} yuan so your balance is ${formatYuan(step.balanceAtMost)} yuan or less`,
        zh: `还款${formatYuan(step.amount)}元，使欠款不超过${formatYuan(step.balanceAtMost)}元`,
      };
    case "close_loans":
      return {
        en: `you close ${step.lenders.length} loan${step.lenders.length === 1 ? "" : "s"} at other lenders (${formatYuan(step.monthlyPayment)} yuan a month in payments)`,
        zh: `结清其他机构的${step.lenders.length}笔贷款（月供合计${formatYuan(step.monthlyPayment)}元）`,
      };
    case "prove_income":
      return {
        en: `you show proof of a monthly income of at least ${formatYuan(step.monthlyIncomeAtLeast)} yuan`,
        zh: `提供月收入不低于${formatYuan(step.monthlyIncomeAtLeast)}元的证明`,
      };
    case "tenure":
      return {
        en: `your line stays in good standing until it is ${step.monthsOnBook} months old (${dateEn(step.by)})`,
        zh: `保持良好记录至开户满${step.monthsOnBook}个月（${dateZh(step.by)}）`,
      };
  }
}

function joinEn(parts: string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

export function phraseRecourse(
  goal: RecourseGoal,
  steps: RecourseStep[],
  by: EpochMs,
  limit: Fen,
  decision: Decision,
): { en: string; zh: string } {
  const texts = steps.map(stepText);
  const applied = decision.effectiveAt <= decision.decidedAt && !decision.requiresReview;
  const amount = formatYuan(limit);
  const outcome =
    goal === "reopen"
      ? { en: `your line reopens with a limit of ${amount} yuan`, zh: `额度重新开通，恢复${amount}元` }
      : applied
        ? { en: `you regain a limit of ${amount} yuan`, zh: `恢复${amount}元额度` }
        : { en: `you keep your limit of ${amount} yuan`, zh: `保留${amount}元额度` };
  const en = joinEn([...texts.map((t) => t.en), "you keep paying every instalment on time"]);
  const zh = [...texts.map((t) => t.zh), "并按时偿还每期账单"].join("，");
  return {
    en: `If ${en}, by ${dateEn(by)} ${outcome.en}.`,
    zh: `如您${zh}，${dateZh(by)}前即可${outcome.zh}。`,
  };
}

export function phraseUnavailable(decision: Decision): { en: string; zh: string } {
  const reason = decision.reasons[0];
  return {
    en: `No change within your control reverses this decision${reason === undefined ? "" : ` (${reason.en})`}. You can appeal to a human reviewer.`,
    zh: `此决定无法通过您自身的改变撤销${reason === undefined ? "" : `（${reason.zh}）`}。您可以申请人工复核。`,
  };
}
