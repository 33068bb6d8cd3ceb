import { useState } from "react";
import { useApi } from "../api.ts";
import { AppealForm, AppealStatus } from "../components/AppealForm.tsx";
import { Async } from "../components/Async.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import { navigate } from "../router.tsx";
import type { AccountDetail, AppealView, DecisionView } from "../types.ts";

/** Statuses of an adverse decision the borrower can still appeal (not already appealed or undone). */
const APPEALABLE = new Set(["applied", "scheduled", "pending_review"]);
const appealable = (d: DecisionView | undefined): d is DecisionView =>
  d?.adverse === true && APPEALABLE.has(d.status);

/** The latest appeal of the decision if there is one, else the form to file one if it can be appealed. */
function AppealOf({
  accountId,
  decision,
  appeals,
  onFiled,
}: {
  accountId: string;
  decision: DecisionView | undefined;
  appeals: AppealView[];
  onFiled: () => void;
}) {
  if (decision === undefined) return null;
  const appeal = appeals.find((a) => a.decisionId === decision.decisionId);
  if (appeal !== undefined) return <AppealStatus appeal={appeal} />;
  if (!appealable(decision)) return null;
  return <AppealForm accountId={accountId} decisionId={decision.decisionId} onFiled={onFiled} />;
}

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
 * change with the reasons given for it, in their language, and a way to appeal each adverse one. A signed-in borrower lands here on their
 * own line; staff open any line by its id.
 */
export function Borrower({ accountId }: { accountId: string | null }) {
  const { t, code, money, date, lang } = useI18n();
  const id = accountId === null ? null : encodeURIComponent(accountId);
  const account = useApi<AccountDetail>(id === null ? null : `/v1/accounts/${id}`);
  // Filing an appeal changes the decision's status and the list of appeals: both are fetched again.
  const [filed, setFiled] = useState(0);
  const decisions = useApi<{ decisions: DecisionView[] }>(
    id === null ? null : `/v1/accounts/${id}/decisions?changesOnly=true&limit=100`,
    filed,
  );
  const appealList = useApi<{ appeals: AppealView[] }>(
    id === null ? null : `/v1/accounts/${id}/appeals`,
    filed,
  );
  const appeals = appealList.state === "ready" ? appealList.data.appeals : [];
  const onFiled = () => setFiled((n) => n + 1);
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
                ? // An appealed announcement is paused, not gone: it still shows, with its appeal; a rate
                  // rise is announced with the cost of drawing (DrawdownCost).
                  decisions.data.decisions.find(
                    (d) =>
                      (d.status === "scheduled" || d.status === "appealed") && !d.action.startsWith("rate_"),
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
                    <AppealOf
                      accountId={a.accountId}
                      decision={announced}
                      appeals={appeals}
                      onFiled={onFiled}
                    />
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
                          <AppealOf
                            accountId={a.accountId}
                            decision={decision}
                            appeals={appeals}
                            onFiled={onFiled}
                          />
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
