import { type ReactNode, useState } from "react";
import { useApi } from "./api.ts";
import { LanguageSwitch, useI18n } from "./i18n/I18n.tsx";
import type { MessageKey } from "./i18n/messages.ts";
import { Link, useLocation } from "./router.tsx";
import { Account } from "./screens/Account.tsx";
import { Accounts } from "./screens/Accounts.tsx";
import { AppealQueue, AppealReview } from "./screens/Appeals.tsx";
import { Audit } from "./screens/Audit.tsx";
import { Borrower } from "./screens/Borrower.tsx";
import { DecisionExplanation } from "./screens/DecisionExplanation.tsx";
import { Login } from "./screens/Login.tsx";
import { Portfolio } from "./screens/Portfolio.tsx";
import { Simulation } from "./screens/Simulation.tsx";

interface Screen {
  /** Path pattern; `:name` segments are passed to render decoded. */
  pattern: string;
  render(params: Record<string, string>, query: URLSearchParams): ReactNode;
  /** Shown in the navigation bar when set. */
  nav?: { to: string; label: MessageKey };
}

/**
 * Every screen is one entry here: appeals, policies, simulation and sign-in add theirs the same way.
 */
const SCREENS: Screen[] = [
  { pattern: "/", render: () => <Portfolio />, nav: { to: "/", label: "nav.portfolio" } },
  {
    pattern: "/accounts",
    render: (_, query) => <Accounts query={query} />,
    nav: { to: "/accounts?changed=true", label: "nav.accounts" },
  },
  { pattern: "/accounts/:accountId", render: (p) => <Account accountId={p.accountId as string} /> },
  {
    pattern: "/decisions/:decisionId",
    render: (p) => <DecisionExplanation decisionId={p.decisionId as string} />,
  },
  { pattern: "/audit", render: () => <Audit />, nav: { to: "/audit", label: "nav.audit" } },
  {
    pattern: "/borrower",
    render: () => <Borrower accountId={null} />,
    nav: { to: "/borrower", label: "nav.borrower" },
  },
  { pattern: "/borrower/:accountId", render: (p) => <Borrower accountId={p.accountId as string} /> },
  { pattern: "/appeals", render: () => <AppealQueue />, nav: { to: "/appeals", label: "nav.appeals" } },
  { pattern: "/appeals/:appealId", render: (p) => <AppealReview appealId={p.appealId as string} /> },
  {
    pattern: "/simulations",
    render: () => <Simulation simulationId={null} />,
    nav: { to: "/simulations", label: "nav.simulation" },
  },
  {
    pattern: "/simulations/:simulationId",
    render: (p) => <Simulation simulationId={p.simulationId as string} />,
  },
];

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = got[i] as string;
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return params;
}

export function App() {
  const { t } = useI18n();
  const { path, query } = useLocation();
  const [sessionCheck, setSessionCheck] = useState(0);
  const session = useApi<{ principal: string; role: string; accounts: string[] }>(
    "/v1/session",
    sessionCheck,
  );
  // A borrower reaches only their own lines: the console is their borrower view, nothing else.
  const borrower = session.state === "ready" && session.data.role === "borrower" ? session.data : null;
  const logout = async () => {
    await fetch("/v1/session", { method: "DELETE" });
    setSessionCheck((n) => n + 1);
  };
  let content: ReactNode = null;
  if (borrower !== null && !path.startsWith("/borrower/"))
    content = <Borrower accountId={borrower.accounts[0] ?? null} />;
  else
    for (const screen of SCREENS) {
      const params = match(screen.pattern, path);
      if (params !== null) {
        content = screen.render(params, query);
        break;
      }
    }
  const active = (to: string) =>
    to.split("?")[0] === "/" ? path === "/" : path.startsWith(to.split("?")[0] as string);
  return (
    <>
      <header className="topbar">
        <h1>{t("app.title")}</h1>
        <nav>
          {SCREENS.filter((s) => s.nav !== undefined && borrower === null).map((s) => {
            const nav = s.nav as NonNullable<Screen["nav"]>;
            return (
              <Link key={nav.to} to={nav.to} className={active(nav.to) ? "active" : ""}>
                {t(nav.label)}
              </Link>
            );
          })}
        </nav>
        <LanguageSwitch />
        {session.state === "ready" && (
          <button type="button" className="logout" data-testid="logout" onClick={logout}>
            {t("login.logout", { who: session.data.principal })}
          </button>
        )}
      </header>
      <main>
        {session.state === "error" ? (
          <Login onLoggedIn={() => setSessionCheck((n) => n + 1)} />
        ) : session.state === "loading" ? null : (
          (content ?? <p className="error">{t("common.notFound", { path })}</p>)
        )}
      </main>
    </>
  );
}
