import { useState } from "react";
import { useApi } from "../api.ts";
import { useI18n } from "../i18n/I18n.tsx";
import type { AuditReport } from "../types.ts";

/** Ledger verification: the hash chain and every sealed record, re-checked on the server. */
export function Audit() {
  const { t, number } = useI18n();
  const [run, setRun] = useState(0);
  const report = useApi<AuditReport>("/v1/audit/verify", run);
  return (
    <div className="screen">
      <h2>{t("audit.title")}</h2>
      <section className="card" data-testid="audit">
        <h3>{t("audit.ledger")}</h3>
        {report.state === "loading" && <p className="muted">{t("audit.verifying")}</p>}
        {report.state === "error" && (
          <p className="error" role="alert">
            {t("common.error", { detail: report.error })}
          </p>
        )}
        {report.state === "ready" && (
          <>
            <p
              className={report.data.ok ? "ok" : "error"}
              data-testid="audit-status"
              data-ok={String(report.data.ok)}
            >
              {report.data.ok
                ? t("audit.ok", { entries: number(report.data.entries), head: number(report.data.headSeq) })
                : t("audit.broken", { count: number(report.data.problems.length) })}
            </p>
            {report.data.problems.length > 0 && (
              <table data-testid="audit-problems">
                <thead>
                  <tr>
                    <th>{t("audit.row")}</th>
                    <th>{t("audit.ref")}</th>
                    <th>{t("audit.problem")}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.data.problems.map((p) => (
                    <tr key={`${p.seq}-${p.refId}-${p.problem}`}>
                      <td>{p.seq ?? ""}</td>
                      <td>{p.refId ?? ""}</td>
                      <td>{p.problem}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
        <button type="button" onClick={() => setRun((n) => n + 1)}>
          {t("audit.verify")}
        </button>
      </section>
    </div>
  );
}
