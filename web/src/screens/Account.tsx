import { useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { featureLabel, formatFeature } from "../components/featureValue.ts";
import { Timeline } from "../components/Timeline.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import { Link } from "../router.tsx";
import type { AccountDetail, NoticeView, Reference } from "../types.ts";

export function Account({ accountId }: { accountId: string }) {
  const i18n = useI18n();
  const { t, code, money: fen, dateTime, lang } = i18n;
  const id = encodeURIComponent(accountId);
  const account = useApi<AccountDetail>(`/v1/accounts/${id}`);
  const notices = useApi<{ notices: NoticeView[] }>(`/v1/accounts/${id}/notices?limit=50`);
  const reference = useApi<Reference>("/v1/reference");
  const definitions = new Map(
    reference.state === "ready" ? reference.data.features.map((f) => [f.name, f]) : [],
  );
  return (
    <div className="screen">
      <h2>{t("account.title", { id: accountId })}</h2>
      <Async loaded={account}>
        {(a) => (
          <>
            <div className="kpis" data-testid="account-summary">
              <div className="kpi">
                <span>{t("accounts.status")}</span>
                <strong className={`status status-${a.status}`}>{code("status", a.status)}</strong>
              </div>
              <div className="kpi">
                <span>{t("accounts.limit")}</span>
                <strong>{fen(a.limit)}</strong>
              </div>
              <div className="kpi">
                <span>{t("accounts.balance")}</span>
                <strong>{fen(a.balance)}</strong>
              </div>
              <div className="kpi">
                <span>{t("accounts.available")}</span>
                <strong>{fen(a.available)}</strong>
              </div>
            </div>
            <p className="muted">
              {t("account.borrower")} {a.borrowerId} · {code("region", a.region)} ·{" "}
              {code("segment", a.segment)} · {t("account.opened")} {dateTime(a.openedAt)} ·{" "}
              <Link to={`/borrower/${id}`}>{t("account.borrowerView")}</Link>
            </p>
            <div className="grid">
              <section className="card wide">
                <h3>{t("account.decisions")}</h3>
                <table data-testid="decisions">
                  <thead>
                    <tr>
                      <th>{t("account.decided")}</th>
                      <th>{t("portfolio.action")}</th>
                      <th>{t("account.change")}</th>
                      <th>{t("portfolio.status")}</th>
                      <th>{t("account.effective")}</th>
                      <th>{t("explain.score")}</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {a.decisions.map((d) => (
                      <tr key={d.decisionId} data-decision={d.decisionId}>
                        <td>{dateTime(d.decidedAt)}</td>
                        <td>{code("action", d.action)}</td>
                        <td>
                          {fen(d.fromLimit)} → {fen(d.toLimit)}
                          {d.fromStatus !== d.toStatus &&
                            ` (${code("status", d.fromStatus)} → ${code("status", d.toStatus)})`}
                        </td>
                        <td>{code("decisionStatus", d.status)}</td>
                        <td>{dateTime(d.effectiveAt)}</td>
                        <td className="num">{d.score}</td>
                        <td>
                          <Link to={`/decisions/${encodeURIComponent(d.decisionId)}`}>
                            {t("account.explain")}
                          </Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              <section className="card">
                <h3>{t("account.features")}</h3>
                <table data-testid="features">
                  <tbody>
                    {Object.entries(a.features).map(([name, value]) => {
                      const def = definitions.get(name);
                      return (
                        <tr key={name}>
                          <td>{def === undefined ? name : featureLabel(def, lang)}</td>
                          <td className="num">{formatFeature(def?.unit, value, i18n)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </section>
              <section className="card">
                <h3>{t("account.notices")}</h3>
                <Async loaded={notices}>
                  {({ notices }) =>
                    notices.length === 0 ? (
                      <p className="muted">{t("common.none")}</p>
                    ) : (
                      <table data-testid="notices">
                        <thead>
                          <tr>
                            <th>{t("portfolio.kind")}</th>
                            <th>{t("portfolio.status")}</th>
                            <th>{t("account.created")}</th>
                          </tr>
                        </thead>
                        <tbody>
                          {notices.map((n) => (
                            <tr key={n.noticeId}>
                              <td>{code("notice", n.kind)}</td>
                              <td>{code("noticeStatus", n.status)}</td>
                              <td>{dateTime(n.createdAt)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    )
                  }
                </Async>
              </section>
              <section className="card wide">
                <h3>{t("account.timeline")}</h3>
                <Timeline accountId={accountId} changes={a.changes} />
              </section>
            </div>
          </>
        )}
      </Async>
    </div>
  );
}
