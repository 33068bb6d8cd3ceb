import { useState } from "react";
import { postJson, useApi } from "../api.ts";
import { EVIDENCE_KIND_LABELS } from "../components/AppealForm.tsx";
import { Async } from "../components/Async.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import { Link } from "../router.tsx";
import type { AppealView, DecisionView, EvidenceKind } from "../types.ts";

/** The reviewer's queue: open appeals and opt-out reviews, soonest deadline first, as the API orders them. */
export function AppealQueue() {
  const { t, code, dateTime, number } = useI18n();
  const queue = useApi<{ appeals: AppealView[] }>("/v1/appeals?limit=200");
  return (
    <div className="screen">
      <h2>{t("review.title")}</h2>
      <Async loaded={queue}>
        {({ appeals }) =>
          appeals.length === 0 ? (
            <p className="muted">{t("review.empty")}</p>
          ) : (
            <table data-testid="appeal-queue">
              <thead>
                <tr>
                  <th>{t("review.appeal")}</th>
                  <th>{t("accounts.account")}</th>
                  <th>{t("review.kind")}</th>
                  <th>{t("review.filed")}</th>
                  <th>{t("review.deadline")}</th>
                  <th>{t("review.pausedChange")}</th>
                  <th className="num">{t("review.evidence")}</th>
                </tr>
              </thead>
              <tbody>
                {appeals.map((a) => (
                  <tr key={a.appealId} data-appeal={a.appealId}>
                    <td>
                      <Link to={`/appeals/${encodeURIComponent(a.appealId)}`}>{a.appealId}</Link>
                    </td>
                    <td>{a.accountId}</td>
                    <td>{code("appealKind", a.kind)}</td>
                    <td>{dateTime(a.filedAt)}</td>
                    <td>{dateTime(a.deadlineAt)}</td>
                    <td>{a.pausedAction ? t("common.yes") : t("common.no")}</td>
                    <td className="num">{number(a.evidence.length)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </div>
  );
}

type Outcome = "uphold" | "reverse";

/** The reviewer's decision: uphold or reverse, with a reason that says what was weighed. */
function DecideForm({ appeal, onDecided }: { appeal: AppealView; onDecided: (a: AppealView) => void }) {
  const { t } = useI18n();
  const [outcome, setOutcome] = useState<Outcome>("uphold");
  const [reason, setReason] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = () => {
    setSending(true);
    setError(null);
    // The reviewer is whoever is signed in: the server records the session's user, not a typed name.
    postJson<AppealView>(`/v1/appeals/${encodeURIComponent(appeal.appealId)}/decision`, {
      outcome,
      reason,
    }).then(
      (decided) => {
        setSending(false);
        onDecided(decided);
      },
      (e: unknown) => {
        setSending(false);
        setError(String((e as Error).message));
      },
    );
  };
  return (
    <form
      className="card decide-form"
      data-testid="decide-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h3>{t("review.decide")}</h3>
      <fieldset>
        {(["uphold", "reverse"] as const).map((o) => (
          <label key={o}>
            <input
              type="radio"
              name="outcome"
              value={o}
              data-testid={`outcome-${o}`}
              checked={outcome === o}
              onChange={() => setOutcome(o)}
            />{" "}
            {t(`review.outcome.${o}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t("review.reason")}
        <textarea
          rows={3}
          data-testid="decide-reason"
          value={reason}
          placeholder={t("review.reasonHint")}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <div className="filters">
        <button type="submit" data-testid="decide-submit" disabled={sending || reason.trim() === ""}>
          {t("review.submit")}
        </button>
      </div>
      {error !== null && (
        <p className="error" role="alert" data-testid="decide-error">
          {error}
        </p>
      )}
    </form>
  );
}

/** One appeal: the decision it contests with its reasons, the borrower's statement and evidence, the outcome. */
export function AppealReview({ appealId }: { appealId: string }) {
  const { t, code, money, dateTime, number, lang } = useI18n();
  const [reload, setReload] = useState(0);
  const loaded = useApi<AppealView>(`/v1/appeals/${encodeURIComponent(appealId)}`, reload);
  const decisionId = loaded.state === "ready" ? loaded.data.decisionId : null;
  const decision = useApi<DecisionView>(
    decisionId === null ? null : `/v1/decisions/${encodeURIComponent(decisionId)}`,
    reload,
  );
  return (
    <div className="screen">
      <p>
        <Link to="/appeals">{t("review.backToQueue")}</Link>
      </p>
      <h2>{t("review.appealTitle", { id: appealId })}</h2>
      <Async loaded={loaded}>
        {(a) => (
          <>
            <div className="card" data-testid="appeal-status" data-status={a.status}>
              <p>
                {t("review.status")}: <b>{code("appealStatus", a.status)}</b> · {t("review.kind")}:{" "}
                {code("appealKind", a.kind)} · {t("review.filed")}: {dateTime(a.filedAt)} ·{" "}
                {t("review.deadline")}: {dateTime(a.deadlineAt)}
              </p>
              {a.pausedAction && <p className="warning">{t("review.pausedNote")}</p>}
              {a.decidedAt !== null && (
                <p data-testid="appeal-outcome">
                  {t("review.decidedBy", {
                    reviewer: a.reviewer ?? "",
                    at: dateTime(a.decidedAt),
                    limit: a.outcomeLimit === null ? t("common.unknown") : money(a.outcomeLimit),
                  })}{" "}
                  <q>{a.outcomeReason}</q>
                </p>
              )}
            </div>
            <div className="grid">
              <section className="card" data-testid="appeal-decision">
                <h3>{t("review.contested")}</h3>
                <Async loaded={decision}>
                  {(d) => (
                    <>
                      <p>
                        <Link to={`/accounts/${encodeURIComponent(d.accountId)}`}>{d.accountId}</Link> ·{" "}
                        <b>{code("action", d.action)}</b> ·{" "}
                        {t("borrower.from", { from: money(d.fromLimit), to: money(d.toLimit) })} ·{" "}
                        {code("decisionStatus", d.status)}
                      </p>
                      <p className="muted">
                        {t("explain.decidedAt")} {dateTime(d.decidedAt)} · {t("explain.effectiveAt")}{" "}
                        {dateTime(d.effectiveAt)} · {t("explain.policy")} {d.policyVersion}
                      </p>
                      <ul>
                        {d.reasons.map((r) => (
                          <li key={r.code}>{lang === "zh" ? r.zh : r.en}</li>
                        ))}
                      </ul>
                      <Link to={`/decisions/${encodeURIComponent(d.decisionId)}`}>{t("review.explain")}</Link>
                    </>
                  )}
                </Async>
              </section>
              <section className="card">
                <h3>{t("review.statement")}</h3>
                <p data-testid="appeal-statement-shown" className="statement">
                  {a.statement === "" ? t("review.noStatement") : a.statement}
                </p>
                <h3>{t("review.evidence")}</h3>
                {a.evidence.length === 0 ? (
                  <p className="muted">{t("review.noEvidence")}</p>
                ) : (
                  <table data-testid="appeal-evidence">
                    <thead>
                      <tr>
                        <th>{t("review.file")}</th>
                        <th>{t("review.kind")}</th>
                        <th className="num">{t("review.size")}</th>
                        <th>SHA-256</th>
                      </tr>
                    </thead>
                    <tbody>
                      {a.evidence.map((e) => (
                        <tr key={e.evidenceId} data-evidence={e.evidenceId}>
                          <td>
                            <a
                              href={`/v1/appeals/${encodeURIComponent(a.appealId)}/evidence/${encodeURIComponent(e.evidenceId)}`}
                              target="_blank"
                              rel="noreferrer"
                            >
                              {e.filename}
                            </a>{" "}
                            <span className="muted">{e.contentType}</span>
                          </td>
                          <td>
                            {e.kind in EVIDENCE_KIND_LABELS
                              ? t(EVIDENCE_KIND_LABELS[e.kind as EvidenceKind])
                              : e.kind}
                          </td>
                          <td className="num">{t("review.bytes", { n: number(e.sizeBytes) })}</td>
                          <td>
                            <code title={e.sha256}>{e.sha256.slice(0, 16)}…</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            </div>
            {a.status === "open" && <DecideForm appeal={a} onDecided={() => setReload((n) => n + 1)} />}
          </>
        )}
      </Async>
    </div>
  );
}
