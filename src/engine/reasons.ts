import { FEATURES, type FeatureName } from "./features.ts";
import { formatYuan } from "./money.ts";

/** A principal reason for an adverse decision: one feature that counted against the borrower. */
export interface Reason {
  code: string;
  feature: FeatureName;
  value: number;
  /** Scorecard points this feature lost against its best band, when the score drove the decision. */
  pointsLost: number | null;
  en: string;
  zh: string;
}

export const MAX_REASONS = 4;

function formatValue(feature: FeatureName, value: number, locale: "en" | "zh"): string {
  const unit = FEATURES[feature].unit;
  if (unit === "ratio") return `${Math.round(value * 100)}%`;
  if (unit === "fen") return locale === "en" ? `CNY ${formatYuan(value)}` : `${formatYuan(value)}元`;
  if (unit === "flag") return value > 0 ? (locale === "en" ? "yes" : "是") : locale === "en" ? "no" : "否";
  return String(value);
}

/** Labels and codes are fixed per feature: built once, not per reason. */
const LABELS = Object.fromEntries(
  (Object.keys(FEATURES) as FeatureName[]).map((feature) => {
    const def = FEATURES[feature];
    const en = def.en.replace(" (fen)", "");
    return [
      feature,
      {
        code: `R_${feature.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
        en: `${en[0]?.toUpperCase()}${en.slice(1)}`,
        zh: def.zh.replace("（分）", ""),
      },
    ];
  }),
) as Record<FeatureName, { code: string; en: string; zh: string }>;

export function reasonFor(feature: FeatureName, value: number, pointsLost: number | null): Reason {
  const label = LABELS[feature];
  return {
    code: label.code,
    feature,
    value,
    pointsLost,
    en: `${label.en}: ${formatValue(feature, value, "en")}`,
    zh: `${label.zh}：${formatValue(feature, value, "zh")}`,
  };
}
