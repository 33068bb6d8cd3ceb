import { useState } from "react";
import { postJson, useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import type { HardshipView } from "../types.ts";

type Relief = HardshipView["offers"][number]["relief"];

function reliefAmount(relief: Relief): number {
  return relief.kind === "rate_reduction" ? relief.cut / 100 : relief.months;
}

/**
 * Relief programs offered to the borrower, to accept or decline; the answer is final. Only this
 * list is read again after an answer, so a cost the borrower is looking at stays on screen.
 */
export function HardshipOffers({ accountId }: { accountId: string }) {
  const { t, code, date } = useI18n();
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const id = encodeURIComponent(accountId);
  const view = useApi<HardshipView>(`/v1/accounts/${id}/hardship-offers`, reload);
  const answer = (programId: string, accept: boolean) => {
    setError(null);
    postJson(`/v1/accounts/${id}/hardship-offers/${encodeURIComponent(programId)}`, { accept }).then(
      () => setReload((n) => n + 1),
      (err: unknown) => setError(String((err as Error).message)),
    );
  };
  return (
    <section data-testid="hardship-offers">
      <h3>{t("borrower.relief")}</h3>
      {error !== null && <p className="error">{error}</p>}
      <Async loaded={view}>
        {(v) =>
          v.offers.length === 0 ? (
            <p className="muted">{t("borrower.noRelief")}</p>
          ) : (
            <ul className="borrower-history">
              {v.offers.map((o) => (
                <li key={o.programId} data-program={o.programId}>
                  <div className="borrower-row">
                    <b>{o.name}</b>
                    <span className="offer-status">{code("offer", o.status)}</span>
                  </div>
                  <div>{t(`relief.${o.relief.kind}`, { n: reliefAmount(o.relief) })}</div>
                  {o.status === "offered" && (
                    <div className="borrower-row">
                      <span className="muted">{t("borrower.until", { date: date(o.endsAt) })}</span>
                      <span>
                        <button type="button" onClick={() => answer(o.programId, true)}>
                          {t("borrower.accept")}
                        </button>{" "}
                        <button type="button" onClick={() => answer(o.programId, false)}>
                          {t("borrower.decline")}
                        </button>
                      </span>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}
