import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { en, type MessageKey, zh } from "./messages.ts";

export type Lang = "en" | "zh";
const catalogues: Record<Lang, Record<MessageKey, string>> = { en, zh };
const locales: Record<Lang, string> = { en: "en-US", zh: "zh-CN" };
const STORAGE_KEY = "headroom.lang";

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  /** A catalogue string with {name} placeholders filled. */
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  /** A label for a value the API sends as a code (action, status, region…); the code itself if unknown. */
  code(group: string, value: string): string;
  /** Fen as yuan in the language's currency format. */
  money(fen: number): string;
  number(value: number, digits?: number): string;
  percent(ratio: number): string;
  dateTime(iso: string): string;
  date(iso: string): string;
}

const Context = createContext<I18n | null>(null);

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "en" || saved === "zh") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = locales[next];
    setLangState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const catalogue = catalogues[lang];
    const locale = locales[lang];
    // Whole yuan print without decimals; amounts with fen print both decimals (never "2.6").
    const yuan = new Intl.NumberFormat(locale, {
      style: "currency",
      currency: "CNY",
      maximumFractionDigits: 0,
    });
    const yuanAndFen = new Intl.NumberFormat(locale, {
      style: "currency",
      currency: "CNY",
      minimumFractionDigits: 2,
    });
    const t = (key: MessageKey, vars: Record<string, string | number> = {}) =>
      catalogue[key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
    return {
      lang,
      setLang,
      t,
      code: (group, value) => {
        const key = `${group}.${value}`;
        return key in catalogue ? catalogue[key as MessageKey] : value;
      },
      money: (fen) => (fen % 100 === 0 ? yuan : yuanAndFen).format(fen / 100),
      number: (value, digits = 0) => value.toLocaleString(locale, { maximumFractionDigits: digits }),
      percent: (ratio) => ratio.toLocaleString(locale, { style: "percent", maximumFractionDigits: 1 }),
      dateTime: (iso) => new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" }),
      date: (iso) => new Date(iso).toLocaleDateString(locale, { dateStyle: "medium" }),
    };
  }, [lang, setLang]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(Context);
  if (i18n === null) throw new Error("useI18n outside I18nProvider");
  return i18n;
}

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang-switch">
      <span>{t("app.language")}</span>
      <select
        data-testid="language"
        value={lang}
        onChange={(e) => setLang(e.target.value === "zh" ? "zh" : "en")}
      >
        <option value="en">English</option>
        <option value="zh">简体中文</option>
      </select>
    </label>
  );
}
