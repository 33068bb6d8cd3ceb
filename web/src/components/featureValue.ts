import type { I18n } from "../i18n/I18n.tsx";
import type { FeatureDefinition } from "../types.ts";

/** A feature value in its unit: ratios as percentages, fen as money, flags as yes/no. */
export function formatFeature(
  unit: FeatureDefinition["unit"] | undefined,
  value: number,
  i18n: I18n,
): string {
  switch (unit) {
    case "ratio":
      return i18n.percent(value);
    case "fen":
      return i18n.money(value);
    case "flag":
      return value > 0 ? i18n.t("common.yes") : i18n.t("common.no");
    default:
      return i18n.number(value, 2);
  }
}

/** Strips the "(fen)" unit note from a dictionary label: the value is shown formatted as money. */
export function featureLabel(def: { en: string; zh: string }, lang: I18n["lang"]): string {
  return (lang === "zh" ? def.zh : def.en).replace(" (fen)", "").replace("（分）", "");
}
