import { useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import { Link, navigate } from "../router.tsx";
import type { AccountSummary, Reference } from "../types.ts";

const STATUSES = ["ACTIVE", "FROZEN", "CLOSED"] as const;
const PAGE = 50;

/** The list of lines, filtered by status, region and "changed"; the filters live in the URL. */
export function Accounts({ query }: { query: URLSearchParams }) {
  const { t, code, money, dateTime } = useI18n();
  const reference = useApi<Reference>("/v1/reference");
  const params = new URLSearchParams();
  for (const name of ["status", "region", "changed", "after"]) {
    const value = query.get(name);
    if (value !== null && value !== "") params.set(name, value);
  }
  params.set("limit", String(PAGE));
  const accounts = useApi<{ accounts: AccountSummary[]; next: string | null }>(`/v1/accounts?${params}`);
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value === "") next.delete(name);
    else next.set(name, value);
    next.delete("after");
    navigate(`/accounts?${next}`);
  };
  return (
    <div className="screen">
      <h2>{t("accounts.title")}</h2>
      <div className="filters">
        <label>
          {t("accounts.status")}{" "}
          <select
            data-testid="filter-status"
            value={query.get("status") ?? ""}
            onChange={(e) => setFilter("status", e.target.value)}
          >
            <option value="">{t("accounts.all")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {code("status", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("accounts.region")}{" "}
          <select
            data-testid="filter-region"
            value={query.get("region") ?? ""}
            onChange={(e) => setFilter("region", e.target.value)}
          >
            <option value="">{t("accounts.all")}</option>
            {reference.state === "ready" &&
              reference.data.regions.map((r) => (
                <option key={r} value={r}>
                  {code("region", r)}
                </option>
              ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="filter-changed"
            checked={query.get("changed") === "true"}
            onChange={(e) => setFilter("changed", e.target.checked ? "true" : "")}
          />{" "}
          {t("accounts.changedOnly")}
        </label>
      </div>
      <Async loaded={accounts}>
        {({ accounts, next }) =>
          accounts.length === 0 ? (
            <p className="muted">{t("accounts.empty")}</p>
          ) : (
            <>
              <table data-testid="accounts-table">
                <thead>
                  <tr>
                    <th>{t("accounts.account")}</th>
                    <th>{t("accounts.region")}</th>
                    <th>{t("accounts.segment")}</th>
                    <th>{t("accounts.status")}</th>
                    <th className="num">{t("accounts.limit")}</th>
                    <th className="num">{t("accounts.balance")}</th>
                    <th className="num">{t("accounts.available")}</th>
                    <th>{t("accounts.pending")}</th>
                    <th>{t("accounts.lastChange")}</th>
                  </tr>
                </thead>
                <tbody>
                  {accounts.map((a) => (
                    <tr key={a.accountId}>
                      <td>
                        <Link to={`/accounts/${encodeURIComponent(a.accountId)}`}>{a.accountId}</Link>
                      </td>
                      <td>{code("region", a.region)}</td>
                      <td>{code("segment", a.segment)}</td>
                      <td>
                        <span className={`status status-${a.status}`}>{code("status", a.status)}</span>
                      </td>
                      <td className="num">{money(a.limit)}</td>
                      <td className="num">{money(a.balance)}</td>
                      <td className="num">{money(a.available)}</td>
                      <td>{a.pendingAction === null ? "" : code("action", a.pendingAction)}</td>
                      <td>{a.lastChangeAt === null ? "" : dateTime(a.lastChangeAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="pager">
                {query.get("after") !== null && (
                  <button type="button" onClick={() => setFilter("after", "")}>
                    {t("accounts.first")}
                  </button>
                )}
                {next !== null && (
                  <button
                    type="button"
                    data-testid="next-page"
                    onClick={() => {
                      const q = new URLSearchParams(query);
                      q.set("after", next);
                      navigate(`/accounts?${q}`);
                    }}
                  >
                    {t("accounts.next")}
                  </button>
                )}
              </div>
            </>
          )
        }
      </Async>
    </div>
  );
}
