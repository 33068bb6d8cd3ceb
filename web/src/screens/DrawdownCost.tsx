import { useState } from "react";
import { postJson } from "../api.ts";
import { useI18n } from "../i18n/I18n.tsx";
import type { DrawdownQuoteView } from "../types.ts";

const TERMS = [3, 6, 12, 24, 36] as const;
const METHODS = ["equal_instalment", "interest_first"] as const;

/**
 * The cost of a drawdown before the borrower draws: the rate and why, the APR, total interest and
 * every due date. The server prices it exactly as it will price the drawdown itself.
 */
export function DrawdownCost({ accountId }: { accountId: string }) {
  const { t, code, money, date, percent, lang } = useI18n();
  const [yuan, setYuan] = useState("3000");
  const [months, setMonths] = useState<number>(12);
  const [repayment, setRepayment] = useState<(typeof METHODS)[number]>("equal_instalment");
  const [quote, setQuote] = useState<DrawdownQuoteView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rate = (bps: number) => percent(bps / 10_000);
  return (
    <section className="borrower-cost" data-testid="drawdown-cost">
      <h3>{t("borrower.cost")}</h3>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          const amount = Math.round(Number(yuan) * 100);
          postJson<DrawdownQuoteView>(`/v1/accounts/${encodeURIComponent(accountId)}/drawdown-quote`, {
            amount,
            termMonths: months,
            repayment,
          }).then(setQuote, (err: unknown) => {
            setQuote(null);
            setError(String((err as Error).message));
          });
        }}
      >
        <label>
          {t("borrower.amount")}{" "}
          <input
            data-testid="cost-amount"
            inputMode="decimal"
            value={yuan}
            onChange={(e) => setYuan(e.target.value)}
          />
        </label>
        <label>
          {t("borrower.term")}{" "}
          <select value={months} onChange={(e) => setMonths(Number(e.target.value))}>
            {TERMS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("borrower.repayment")}{" "}
          <select
            value={repayment}
            onChange={(e) => setRepayment(e.target.value as (typeof METHODS)[number])}
          >
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {code("repayment", m)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" data-testid="cost-submit">
          {t("borrower.quote")}
        </button>
      </form>
      {error !== null && <p className="error">{error}</p>}
      {quote !== null && (
        <div data-testid="cost-result">
          <p>
            <b data-testid="cost-rate">
              {t("borrower.rate", {
                rate: rate(quote.annualRateBps),
                apr: percent(quote.effectiveAnnualRate),
              })}
            </b>
          </p>
          {quote.announced !== null && (
            <p className="warning" data-testid="cost-announced">
              {t("borrower.rateAnnounced", {
                date: date(quote.announced.effectiveAt),
                rate: rate(quote.announced.annualRateBps),
              })}
            </p>
          )}
          <div className="borrower-row">
            <span>
              {t("borrower.totalInterest")} <b data-testid="cost-interest">{money(quote.totalInterest)}</b>
            </span>
            <span>
              {t("borrower.totalRepayable")} <b>{money(quote.totalRepayable)}</b>
            </span>
          </div>
          <table data-testid="cost-schedule" lang={lang}>
            <thead>
              <tr>
                <th>{t("borrower.dueDate")}</th>
                <th>{t("borrower.principal")}</th>
                <th>{t("borrower.interest")}</th>
                <th>{t("borrower.instalment")}</th>
              </tr>
            </thead>
            <tbody>
              {quote.instalments.map((i) => (
                <tr key={i.number}>
                  <td>{date(i.dueAt)}</td>
                  <td>{money(i.principal)}</td>
                  <td>{money(i.interest)}</td>
                  <td>{money(i.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
