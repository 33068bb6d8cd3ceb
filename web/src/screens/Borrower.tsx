import { useState } from "react";
import { useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import { navigate } from "../router.tsx";
import type { AccountDetail, DecisionView } from "../types.ts";
import { DrawdownCost } from "./DrawdownCost.tsx";
import { HardshipOffers } from "./HardshipOffers.tsx";

function AccountPicker({ initial }: { initial: string }) {
  const { t } = useI18n();
  const [value, setValue] = useState(initial);
  return (
    <form
      className="filters"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim() !== "") navigate(`/borrower/${encodeURIComponent(value.trim())}`);
      }}
    >
      <label>
        {t("borrower.pick")} <input value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit">{t("borrower.show")}</button>
    </form>
  );
}

/**
 * What a borrower sees on a phone: limit and available credit, any announced change, and every
 * change with the reasons given for it, in their language. (Login comes with issue 7; until then
 * the account id is in the URL.)
 */
export function Borrower({ accountId }: { accountId: string | null }) {
  const { t, code, money, date, lang } = useI18n();
  const id = accountId === null ? null : encodeURIComponent(accountId);
  const account = useApi<AccountDetail>(id === null ? null : `/v1/accounts/${id}`);
  const decisions = useApi<{ decisions: DecisionView[] }>(
    id === null ? null : `/v1/accounts/${id}/decisions?changesOnly=true&limit=100`,
  );
  return (
    <div className="screen borrower">
      <h2>{t("borrower.title")}</h2>
      {accountId === null ? (
        <AccountPicker initial="" />
      ) : (
        <Async loaded={account}>
          {(a) => {
            const byId = new Map(
              decisions.state === "ready" ? decisions.data.decisions.map((d) => [d.decisionId, d]) : [],
            );
            const announced =
              decisions.state === "ready"
                ? // A rate rise is announced with the cost of drawing (DrawdownCost).
                  decisions.data.decisions.find(
                    (d) => d.status === "scheduled" && !d.action.startsWith("rate_"),
                  )
                : undefined;
            return (
              <>
                <div className="borrower-card" data-testid="borrower-limit">
                  <span>{t("borrower.available")}</span>
                  <strong data-testid="borrower-available">{money(a.available)}</strong>
                  <div className="borrower-row">
                    <span>
                      {t("borrower.limit")} <b data-testid="borrower-total">{money(a.limit)}</b>
                    </span>
                    <span>
                      {t("borrower.drawn")} <b>{money(a.balance)}</b>
                    </span>
                  </div>
                  <span className={`status status-${a.status}`}>
                    {t("borrower.status")}: {code("status", a.status)}
                  </span>
                </div>
                {announced !== undefined && (
                  <div className="warning" data-testid="borrower-announced">
                    <p>{t("borrower.announced", { date: date(announced.effectiveAt) })}</p>
                    <p>
                      {code("action", announced.action)}:{" "}
                      {t("borrower.from", { from: money(announced.fromLimit), to: money(announced.toLimit) })}
                    </p>
                    <ul>
                      {announced.reasons.map((r) => (
                        <li key={r.code}>{lang === "zh" ? r.zh : r.en}</li>
                      ))}
                    </ul>
                  </div>
                )}
                <DrawdownCost accountId={a.accountId} />
                <HardshipOffers accountId={a.accountId} />
                <h3>{t("borrower.history")}</h3>
                {a.changes.length === 0 ? (
                  <p className="muted">{t("borrower.noHistory")}</p>
                ) : (
                  <ol className="borrower-history" data-testid="borrower-history">
                    {a.changes.map((c) => {
                      const decision = byId.get(c.decisionId);
                      return (
                        <li key={c.decisionId} data-decision={c.decisionId}>
                          <div className="borrower-row">
                            <b>
                              {decision === undefined
                                ? code("status", c.toStatus)
                                : code("action", decision.action)}
                            </b>
                            <time>{date(c.effectiveAt)}</time>
                          </div>
                          <div>{t("borrower.from", { from: money(c.fromLimit), to: money(c.toLimit) })}</div>
                          {decision !== undefined && decision.reasons.length > 0 && (
                            <div className="reasons">
                              <span className="muted">{t("borrower.why")}</span>
                              <ul>
                                {decision.reasons.map((r) => (
                                  <li key={r.code} className="borrower-reason">
                                    {lang === "zh" ? r.zh : r.en}
                                  </li>
                                ))}
                              </ul>
                            </div>
                          )}
                        </li>
                      );
                    })}
                  </ol>
                )}
              </>
            );
          }}
        </Async>
      )}
    </div>
  );
}
