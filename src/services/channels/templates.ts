import { formatYuan } from "../../engine/money.ts";
import { percent } from "../../engine/pricing/rateChange.ts";

/** The languages notices are written in; a borrower's contact says which one they read. */
export type NoticeLanguage = "zh-CN" | "en";
export const NOTICE_LANGUAGES: readonly NoticeLanguage[] = ["zh-CN", "en"];

interface NoticeReason {
  en: string;
  zh: string;
}

/** The fields notices carry (decision notices and borrower notices alike). */
interface NoticePayload {
  kind: string;
  action?: string;
  fromLimit?: number;
  toLimit?: number;
  fromRate?: number;
  toRate?: number;
  effectiveAt?: string;
  reasons?: NoticeReason[];
  recourse?: { en: string; zh: string } | null;
  /** A decision class-wide measures made: said instead of personal reasons. */
  classWide?: { en: string; zh: string } | null;
  en?: string;
  zh?: string;
}

const ACTIONS: Record<string, { en: string; zh: string }> = {
  decrease: { en: "lower your credit limit", zh: "降低您的信用额度" },
  increase: { en: "raise your credit limit", zh: "提高您的信用额度" },
  freeze: { en: "freeze drawing on your line", zh: "冻结您的额度支用" },
  close: { en: "close your line", zh: "关闭您的额度" },
  reopen: { en: "reopen your line", zh: "重新开通您的额度" },
  rate_increase: { en: "raise the annual rate of new drawdowns", zh: "提高新支用的年利率" },
  rate_decrease: { en: "lower the annual rate of new drawdowns", zh: "降低新支用的年利率" },
};

function decisionText(p: NoticePayload, lang: NoticeLanguage): { subject: string; lines: string[] } {
  const action = ACTIONS[p.action ?? ""] ?? { en: "change your line", zh: "调整您的额度" };
  const zh = lang === "zh-CN";
  const limits =
    p.fromRate !== undefined && p.toRate !== undefined
      ? zh
        ? `年利率：${percent(p.fromRate)} → ${percent(p.toRate)}（已支用的款项利率不变）。`
        : `Annual rate: ${percent(p.fromRate)} -> ${percent(p.toRate)} (drawdowns already made keep their rate).`
      : p.fromLimit !== undefined && p.toLimit !== undefined
        ? zh
          ? `额度：${formatYuan(p.fromLimit)}元 → ${formatYuan(p.toLimit)}元。`
          : `Limit: ${formatYuan(p.fromLimit)} yuan -> ${formatYuan(p.toLimit)} yuan.`
        : "";
  const date = (p.effectiveAt ?? "").slice(0, 10);
  const head =
    p.kind === "scheduled"
      ? zh
        ? `我们将于${date}${action.zh}。在此之前您可以申诉，申诉期间调整暂停。`
        : `We will ${action.en} on ${date}. You can appeal before then; an appeal pauses the change.`
      : p.kind === "pending_review"
        ? zh
          ? `我们拟${action.zh}，将先由人工复核。`
          : `We propose to ${action.en}; a person will review it first.`
        : zh
          ? `我们已${action.zh}。`
          : `We have acted to ${action.en}.`;
  const classWide = p.classWide ?? null;
  const reasons = classWide === null ? (p.reasons ?? []).map((r) => `- ${zh ? r.zh : r.en}`) : [];
  const recourse =
    p.recourse === null || p.recourse === undefined ? [] : [zh ? p.recourse.zh : p.recourse.en];
  return {
    subject: zh ? `您的额度调整通知` : "A change to your credit line",
    lines: [
      head,
      limits,
      ...(classWide === null ? [] : [zh ? classWide.zh : classWide.en]),
      ...(reasons.length > 0 ? [zh ? "主要原因：" : "Principal reasons:", ...reasons] : []),
      ...recourse,
    ],
  };
}

/** Renders one notice in the borrower's language: a subject and a plain-text body. */
export function renderNotice(payloadJson: string, lang: NoticeLanguage): { subject: string; text: string } {
  const p = JSON.parse(payloadJson) as NoticePayload;
  const zh = lang === "zh-CN";
  if (p.en !== undefined && p.zh !== undefined) {
    const subjects: Record<string, { en: string; zh: string }> = {
      appeal_received: { en: "We received your appeal", zh: "我们已收到您的申诉" },
      appeal_decided: { en: "Your appeal has been decided", zh: "您的申诉已有结果" },
      plan_created: { en: "Your plan to restore your line", zh: "您的额度恢复计划" },
      plan_met: { en: "Your line is open again", zh: "您的额度已重新开通" },
      reopen_queued: { en: "Your line will reopen", zh: "您的额度即将重新开通" },
      limit_restored: { en: "Your limit is restored", zh: "您的额度已恢复" },
      restoration_withdrawn: { en: "About the limit you were to get back", zh: "关于您待恢复的额度" },
      hardship_offer: { en: "Relief you can take", zh: "您可申请的纾困安排" },
      hardship_accepted: { en: "Your relief is in place", zh: "您的纾困安排已生效" },
    };
    const subject = subjects[p.kind] ?? { en: "About your credit line", zh: "关于您的额度" };
    return { subject: zh ? subject.zh : subject.en, text: zh ? p.zh : p.en };
  }
  const { subject, lines } = decisionText(p, lang);
  return { subject, text: lines.filter((l) => l !== "").join("\n") };
}
