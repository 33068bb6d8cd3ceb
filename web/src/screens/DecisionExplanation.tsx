import { useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { featureLabel, formatFeature } from "../components/featureValue.ts";
import { useI18n } from "../i18n/I18n.tsx";
import { Link } from "../router.tsx";
import type { DecisionExplanation as Explanation, Reference } from "../types.ts";

/** Guardrail notes read "name: detail"; the name is a code the catalogue translates. */
function splitGuardrail(note: string): { name: string; detail: string } {
  const colon = note.indexOf(":");
  return colon < 0
    ? { name: note, detail: "" }
    : { name: note.slice(0, colon), detail: note.slice(colon + 1).trim() };
}

export function DecisionExplanation({ decisionId }: { decisionId: string }) {
  const i18n = useI18n();
  const { t, code, money, percent, dateTime, number, lang } = i18n;
  const explanation = useApi<Explanation>(`/v1/decisions/${encodeURIComponent(decisionId)}/explanation`);
  const reference = useApi<Reference>("/v1/reference");
  const units = new Map(
    reference.state === "ready" ? reference.data.features.map((f) => [f.name, f.unit] as const) : [],
  );
  return (
    <div className="screen">
      <h2>{t("explain.title", { id: decisionId })}</h2>
      <Async loaded={explanation}>
        {(x) => {
          const d = x.decision;
          return (
            <>
              <p>
                <Link to={`/accounts/${encodeURIComponent(d.accountId)}`}>
                  ← {t("explain.account")} {d.accountId}
                </Link>
              </p>
              <div className="kpis" data-testid="decision-summary">
                <div className="kpi">
                  <span>{t("explain.outcome")}</span>
                  <strong data-testid="decision-action">{code("action", d.action)}</strong>
                  <small>
                    {money(d.fromLimit)} → {money(d.toLimit)} · {code("decisionStatus", d.status)}
                  </small>
                </div>
                <div className="kpi">
                  <span>{t("explain.score")}</span>
                  <strong data-testid="decision-score">{d.score}</strong>
                  <small>
                    {t("explain.pd")} {percent(x.pd)} · {t("explain.tier")} {x.tier}
                  </small>
                </div>
                <div className="kpi">
                  <span>{t("explain.target")}</span>
                  <strong>{money(x.trace.target)}</strong>
                  <small>
                    {t("explain.tierCap")} {money(x.trace.tierCap)} · {t("explain.incomeLimit")}{" "}
                    {money(x.trace.incomeLimit)} · {t("explain.targetGap")} {percent(x.trace.targetGap)}
                  </small>
                </div>
                <div className="kpi">
                  <span>{t("explain.versions")}</span>
                  <strong data-testid="decision-versions">
                    {d.policyVersion} · {d.modelVersion}
                  </strong>
                  <small>
                    {t("explain.trigger")} {code("trigger", d.trigger)} · {t("explain.decidedAt")}{" "}
                    {dateTime(d.decidedAt)} · {t("explain.effectiveAt")} {dateTime(d.effectiveAt)}
                    {x.urgency !== null && ` · ${t("explain.urgency")} ${code("urgency", x.urgency)}`}
                  </small>
                </div>
              </div>
              {x.requiresReview && <p className="warning">{t("explain.review")}</p>}
              {x.unavailable.map((what) => (
                <p key={what} className="warning">
                  {t("explain.unavailable", { what })}
                </p>
              ))}

              <section className="card">
                <h3>{t("explain.reasons")}</h3>
                {x.reasons.length === 0 ? (
                  <p className="muted">{t("common.none")}</p>
                ) : (
                  <table data-testid="reasons">
                    <thead>
                      <tr>
                        <th>{t("explain.reasonCode")}</th>
                        <th>{t("explain.reasonZh")}</th>
                        <th>{t("explain.reasonEn")}</th>
                        <th className="num">{t("explain.pointsLost")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {x.reasons.map((r) => (
                        <tr key={r.code} data-reason={r.code}>
                          <td>
                            <code>{r.code}</code>
                          </td>
                          <td className="reason-zh">{r.zh}</td>
                          <td className="reason-en">{r.en}</td>
                          <td className="num">{r.pointsLost ?? ""}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>

              <section className="card">
                <h3>{t("explain.rules")}</h3>
                {x.rules !== null && (
                  <table data-testid="rules">
                    <thead>
                      <tr>
                        <th>{t("explain.rule")}</th>
                        <th>{t("explain.ruleAction")}</th>
                        <th>{t("explain.ruleOutcome")}</th>
                        <th>{t("explain.conditions")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {x.rules.map((rule) => (
                        <tr
                          key={rule.id}
                          data-rule={rule.id}
                          data-outcome={rule.outcome}
                          className={`rule-${rule.outcome}`}
                        >
                          <td>
                            <code>{rule.id}</code>
                            {lang === "en" && <div className="muted">{rule.description}</div>}
                          </td>
                          <td>
                            {code("action", rule.action)} ({code("urgency", rule.urgency)})
                          </td>
                          <td>{t(`explain.outcome.${rule.outcome}`)}</td>
                          <td>
                            <ul className="conditions">
                              {rule.conditions.map((c) => (
                                <li
                                  key={`${c.fact}${c.op}${c.value}`}
                                  data-held={String(c.held)}
                                  className={c.held ? "held" : "failed"}
                                >
                                  {c.held ? "✓" : "✗"} {featureLabel(c.label, lang)} {c.op}{" "}
                                  {units.get(c.fact) === "flag"
                                    ? c.value
                                    : formatFeature(units.get(c.fact), c.value, i18n)}{" "}
                                  <span className="muted">
                                    ({t("explain.actual")} {formatFeature(units.get(c.fact), c.actual, i18n)})
                                  </span>
                                </li>
                              ))}
                            </ul>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>

              <div className="grid">
                <section className="card">
                  <h3>{t("explain.points")}</h3>
                  {x.points !== null && (
                    <table data-testid="points">
                      <thead>
                        <tr>
                          <th>{t("account.feature")}</th>
                          <th className="num">{t("explain.featureValue")}</th>
                          <th className="num">{t("explain.earned")}</th>
                          <th className="num">{t("explain.max")}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {x.points.map((p) => (
                          <tr key={p.feature} className={p.points < p.maxPoints ? "lost" : ""}>
                            <td>{featureLabel(p.label, lang)}</td>
                            <td className="num">{formatFeature(units.get(p.feature), p.value, i18n)}</td>
                            <td className="num">{number(p.points, 1)}</td>
                            <td className="num">{number(p.maxPoints, 1)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </section>
                <section className="card">
                  <h3>{t("explain.guardrails")}</h3>
                  {x.trace.guardrails.length === 0 ? (
                    <p className="muted">{t("explain.noGuardrails")}</p>
                  ) : (
                    <ul data-testid="guardrails">
                      {x.trace.guardrails.map((g) => {
                        const { name, detail } = splitGuardrail(g);
                        return (
                          <li key={g}>
                            <strong>{code("guardrail", name)}</strong> <code>{detail}</code>
                          </li>
                        );
                      })}
                    </ul>
                  )}
                  {x.affordability !== null && (
                    <>
                      <h3>{t("explain.affordability")}</h3>
                      <table data-testid="affordability">
                        <tbody>
                          <tr>
                            <td>{t("explain.income")}</td>
                            <td className="num">
                              {money(x.affordability.income)} (
                              {x.affordability.incomeVerified
                                ? t("explain.incomeVerified")
                                : t("explain.incomeDeclared")}
                              )
                            </td>
                          </tr>
                          <tr>
                            <td>{t("explain.obligations")}</td>
                            <td className="num">{money(x.affordability.obligations)}</td>
                          </tr>
                          <tr>
                            <td>{t("explain.newMinimum")}</td>
                            <td className="num">{money(x.affordability.newMinimumPayment)}</td>
                          </tr>
                          <tr>
                            <td>{t("explain.dtiAfter")}</td>
                            <td className="num">
                              {x.affordability.debtToIncomeAfter === null
                                ? t("common.unknown")
                                : percent(x.affordability.debtToIncomeAfter)}
                            </td>
                          </tr>
                          <tr>
                            <td>{t("explain.affordable")}</td>
                            <td className="num">{money(x.affordability.limitAffordable)}</td>
                          </tr>
                          <tr>
                            <td>{t("explain.passed")}</td>
                            <td className="num">
                              {x.affordability.passed ? t("common.yes") : t("common.no")}
                            </td>
                          </tr>
                        </tbody>
                      </table>
                    </>
                  )}
                </section>
              </div>
            </>
          );
        }}
      </Async>
    </div>
  );
}
