import { useEffect, useMemo, useState } from "react";
import { getJson, postJson, useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { GroupedBars } from "../components/GroupedBars.tsx";
import { type I18n, useI18n } from "../i18n/I18n.tsx";
import { Link } from "../router.tsx";
import type { HitAccount, Reference, SimulationReport, SimulationView } from "../types.ts";

type Measures = SimulationReport["measures"]["current"];
type WhatIf = NonNullable<SimulationReport["whatIf"]>;

/** Rows of the who-is-hit list shown on screen; the CSV has them all. */
const HITS_SHOWN = 200;
const ACTION_ORDER = ["none", "increase", "decrease", "freeze", "close", "reopen"];
const CURRENT = "#90a4ae";
const CANDIDATE = "#1565c0";
const CHANGE = "#ef6c00";

/** Which side's decision of a hit a class-wide measure made. */
function classWideSide(h: HitAccount): "both" | "current" | "candidate" | "none" {
  if (h.currentClassWide) return h.candidateClassWide ? "both" : "current";
  return h.candidateClassWide ? "candidate" : "none";
}

/** A what-if as a list: "Portfolio stress multiplier 0.8, West risk factor 0.9". */
function whatIfText(whatIf: WhatIf, { t, code, number }: I18n): string {
  return [
    ...(whatIf.stress === undefined ? [] : [`${t("simulation.stress")} ${number(whatIf.stress, 2)}`]),
    ...Object.entries(whatIf.regions ?? {}).map(
      ([region, f]) => `${t("simulation.regionMeasure", { region: code("region", region) })} ${number(f, 2)}`,
    ),
  ].join(", ");
}

/** The stress multiplier and every region factor either side decided under, side by side. */
function MeasuresCard({ report }: { report: SimulationReport }) {
  const { t, code, number } = useI18n();
  const { current, candidate } = report.measures;
  const regions = [...new Set([...Object.keys(current.regions), ...Object.keys(candidate.regions)])].sort();
  const rows = [
    { key: "stress", label: t("simulation.stress"), current: current.stress, candidate: candidate.stress },
    ...regions.map((g) => ({
      key: `region:${g}`,
      label: t("simulation.regionMeasure", { region: code("region", g) }),
      current: current.regions[g] ?? 1,
      candidate: candidate.regions[g] ?? 1,
    })),
  ];
  return (
    <section className="card">
      <h3>{t("simulation.measures")}</h3>
      <table data-testid="simulation-measures">
        <thead>
          <tr>
            <th>{t("simulation.measure")}</th>
            <th className="num">{t("simulation.current")}</th>
            <th className="num">{t("simulation.candidate")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={m.key} data-measure={m.key} className={m.current === m.candidate ? "" : "what-if-row"}>
              <td>{m.label}</td>
              <td className="num">{number(m.current, 2)}</td>
              <td className="num">{number(m.candidate, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" data-testid="class-wide-counts">
        {t("simulation.classWideCounts", {
          current: number(report.classWide.current),
          candidate: number(report.classWide.candidate),
        })}
      </p>
    </section>
  );
}

function Report({ simulation }: { simulation: SimulationView }) {
  const i18n = useI18n();
  const { t, code, money, number, percent } = i18n;
  const r = simulation.report;
  const actions = useMemo(
    () =>
      ACTION_ORDER.filter((a) => a in r.actions).concat(
        Object.keys(r.actions).filter((a) => !ACTION_ORDER.includes(a)),
      ),
    [r.actions],
  );
  const actionSeries = useMemo(
    () => [
      {
        label: t("simulation.current"),
        colour: CURRENT,
        values: actions.map((a) => r.actions[a]?.current ?? 0),
      },
      {
        label: t("simulation.candidate"),
        colour: CANDIDATE,
        values: actions.map((a) => r.actions[a]?.candidate ?? 0),
      },
    ],
    [actions, r.actions, t],
  );
  const regions = useMemo(() => Object.keys(r.exposure.byRegion).sort(), [r.exposure.byRegion]);
  const regionSeries = useMemo(
    () => [
      {
        label: t("simulation.change"),
        colour: CHANGE,
        values: regions.map((g) => {
          const e = r.exposure.byRegion[g];
          return e === undefined ? 0 : (e.exposureCandidate - e.exposureCurrent) / 100;
        }),
      },
    ],
    [regions, r.exposure.byRegion, t],
  );
  const yuan = useMemo(() => (v: number) => money(Math.round(v * 100)), [money]);
  const actionLabels = useMemo(() => actions.map((a) => code("action", a)), [actions, code]);
  const regionLabels = useMemo(() => regions.map((g) => code("region", g)), [regions, code]);
  const total = r.exposure.total;
  const sideLabels = {
    both: t("simulation.bothSides"),
    current: t("simulation.current"),
    candidate: t("simulation.candidate"),
    none: "",
  };
  return (
    <div data-testid="simulation-report" data-simulation={simulation.id}>
      <p className="muted">
        {t("simulation.compared", {
          candidate: r.candidate.policy,
          current: r.current.policy,
          model: r.current.model,
          id: simulation.id,
        })}{" "}
        <Link to={`/simulations/${encodeURIComponent(simulation.id)}`}>{t("simulation.permalink")}</Link>
      </p>
      {r.whatIf !== null && (
        <p className="warning" data-testid="what-if">
          {t("simulation.whatIfRan", { measures: whatIfText(r.whatIf, i18n) })}
        </p>
      )}
      <div className="kpis" data-testid="simulation-kpis">
        <div className="kpi">
          <span>{t("simulation.accounts")}</span>
          <strong>{number(r.accounts)}</strong>
        </div>
        <div className="kpi">
          <span>{t("simulation.hit")}</span>
          <strong data-testid="hit-count">{number(simulation.hitCount)}</strong>
        </div>
        <div className="kpi">
          <span>{t("simulation.exposure")}</span>
          <strong>{money(total.exposureCandidate)}</strong>
          <small>{t("simulation.insteadOf", { value: money(total.exposureCurrent) })}</small>
        </div>
        <div className="kpi">
          <span>{t("simulation.expectedLoss")}</span>
          <strong>{money(r.expectedLoss.candidate)}</strong>
          <small>{t("simulation.insteadOf", { value: money(r.expectedLoss.current) })}</small>
        </div>
        <div className="kpi">
          <span>{t("simulation.psi")}</span>
          <strong>{number(r.scorePsi, 3)}</strong>
        </div>
      </div>
      <div className="grid">
        <section className="card">
          <h3>{t("simulation.byAction")}</h3>
          <GroupedBars
            categories={actionLabels}
            series={actionSeries}
            yLabel={t("simulation.lines")}
            testId="actions-chart"
          />
          <table data-testid="actions-table">
            <thead>
              <tr>
                <th>{t("portfolio.action")}</th>
                <th className="num">{t("simulation.current")}</th>
                <th className="num">{t("simulation.candidate")}</th>
              </tr>
            </thead>
            <tbody>
              {actions.map((a) => (
                <tr key={a} data-action={a}>
                  <td>{code("action", a)}</td>
                  <td className="num">{number(r.actions[a]?.current ?? 0)}</td>
                  <td className="num">{number(r.actions[a]?.candidate ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h3>{t("simulation.byRegion")}</h3>
          <GroupedBars
            categories={regionLabels}
            series={regionSeries}
            yLabel={t("simulation.exposureChangeAxis")}
            yValue={yuan}
            testId="region-chart"
          />
          <table data-testid="region-table">
            <thead>
              <tr>
                <th>{t("accounts.region")}</th>
                <th className="num">{t("simulation.current")}</th>
                <th className="num">{t("simulation.candidate")}</th>
                <th className="num">{t("simulation.change")}</th>
              </tr>
            </thead>
            <tbody>
              {regions.map((g) => {
                const e = r.exposure.byRegion[g];
                if (e === undefined) return null;
                return (
                  <tr key={g} data-region={g}>
                    <td>{code("region", g)}</td>
                    <td className="num">{money(e.exposureCurrent)}</td>
                    <td className="num">{money(e.exposureCandidate)}</td>
                    <td className="num">{money(e.exposureCandidate - e.exposureCurrent)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h3>{t("simulation.adverseImpact")}</h3>
          <table data-testid="adverse-impact">
            <thead>
              <tr>
                <th>{t("accounts.segment")}</th>
                <th className="num">{t("simulation.adverseRate")}</th>
                <th className="num">{t("simulation.ratioToLowest")}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(r.adverseImpact).map(([segment, a]) => (
                <tr key={segment}>
                  <td>{code("segment", segment)}</td>
                  <td className="num">{percent(a.adverseRate)}</td>
                  <td className="num">×{number(a.ratioToLowest, 2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <MeasuresCard report={r} />
      </div>
      <section className="card">
        <h3>{t("simulation.whoIsHit")}</h3>
        <p className="muted">
          {t("simulation.hitsShown", { shown: number(r.hits.length), total: number(simulation.hitCount) })}{" "}
          <a
            href={`/v1/simulations/${encodeURIComponent(simulation.id)}/hits?format=csv`}
            data-testid="hits-csv"
          >
            {t("simulation.csv")}
          </a>
        </p>
        <table data-testid="hits">
          <thead>
            <tr>
              <th>{t("accounts.account")}</th>
              <th>{t("accounts.region")}</th>
              <th>{t("accounts.segment")}</th>
              <th>{t("simulation.current")}</th>
              <th>{t("simulation.candidate")}</th>
              <th className="num">{t("simulation.limitNow")}</th>
              <th className="num">{t("simulation.limitCurrent")}</th>
              <th className="num">{t("simulation.limitCandidate")}</th>
              <th>{t("simulation.rule")}</th>
              <th>{t("simulation.byMeasure")}</th>
            </tr>
          </thead>
          <tbody>
            {r.hits.map((h) => (
              <tr key={h.accountId} data-account={h.accountId}>
                <td>
                  <Link to={`/accounts/${encodeURIComponent(h.accountId)}`}>{h.accountId}</Link>
                </td>
                <td>{code("region", h.region)}</td>
                <td>{code("segment", h.segment)}</td>
                <td>{code("action", h.currentAction)}</td>
                <td>{code("action", h.candidateAction)}</td>
                <td className="num">{money(h.fromLimit)}</td>
                <td className="num">{money(h.currentLimit)}</td>
                <td className="num">{money(h.candidateLimit)}</td>
                <td>{h.candidateRule ?? t("common.unknown")}</td>
                <td data-class-wide={classWideSide(h)}>{sideLabels[classWideSide(h)]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

const POLL_MS = 300;

/** Simulations run as jobs: the report answers 202 while it is being made. */
async function reportWhenDone(id: string): Promise<SimulationView> {
  for (;;) {
    const answer = await getJson<SimulationView | { status: "running" }>(
      `/v1/simulations/${encodeURIComponent(id)}?hits=${HITS_SHOWN}`,
    );
    if (!("status" in answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The what-if fields as the API takes them (`stress`, `regionFactors`; empty fields left out), or
 * the first field that is not a number. The API checks the bounds and names a field out of them.
 */
function whatIfBody(
  stress: string,
  regions: Record<string, string>,
  { t, code }: I18n,
): { stress?: number; regionFactors?: Record<string, number> } | { invalid: string } {
  const fields = [
    { label: t("simulation.stress"), region: null, text: stress.trim() },
    ...Object.entries(regions).map(([region, text]) => ({
      label: t("simulation.regionMeasure", { region: code("region", region) }),
      region,
      text: text.trim(),
    })),
  ].filter((f) => f.text !== "");
  const body: { stress?: number; regionFactors?: Record<string, number> } = {};
  for (const f of fields) {
    const value = Number(f.text);
    if (!Number.isFinite(value))
      return { invalid: t("simulation.notAFactor", { field: f.label, value: f.text }) };
    if (f.region === null) body.stress = value;
    else body.regionFactors = { ...body.regionFactors, [f.region]: value };
  }
  return body;
}

/** Optional what-if factors, each shown over the value in force. */
function WhatIfFields({
  stress,
  setStress,
  regions,
  setRegion,
}: {
  stress: string;
  setStress: (v: string) => void;
  regions: Record<string, string>;
  setRegion: (region: string, v: string) => void;
}) {
  const { t, code } = useI18n();
  const reference = useApi<Reference>("/v1/reference");
  const inForce = useApi<Measures>("/v1/risk-measures");
  const held =
    inForce.state === "ready" ? inForce.data : { regions: {} as Record<string, number>, stress: 1 };
  return (
    <fieldset className="what-if" data-testid="what-if-fields">
      <legend>{t("simulation.whatIf")}</legend>
      <p className="muted">{t("simulation.whatIfHint")}</p>
      <div className="filters">
        <label>
          {t("simulation.stress")}{" "}
          <input
            data-testid="what-if-stress"
            inputMode="decimal"
            placeholder={String(held.stress)}
            value={stress}
            onChange={(e) => setStress(e.target.value)}
          />
        </label>
      </div>
      <div className="filters">
        <span>{t("simulation.regionFactors")}</span>
        {reference.state === "ready" &&
          reference.data.regions.map((g) => (
            <label key={g}>
              {code("region", g)}{" "}
              <input
                data-testid={`what-if-region-${g}`}
                inputMode="decimal"
                placeholder={String(held.regions[g] ?? 1)}
                value={regions[g] ?? ""}
                onChange={(e) => setRegion(g, e.target.value)}
              />
            </label>
          ))}
      </div>
    </fieldset>
  );
}

/** The candidate policy as YAML, prefilled with the policy in force, and the report of each run. */
function Editor() {
  const i18n = useI18n();
  const { t } = i18n;
  const [yaml, setYaml] = useState<string | null>(null);
  const [stress, setStress] = useState("");
  const [regions, setRegions] = useState<Record<string, string>>({});
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<SimulationView | null>(null);
  useEffect(() => {
    getJson<{ yaml: string }>("/v1/simulations/baseline").then(
      (b) => setYaml((current) => current ?? b.yaml),
      (e: unknown) => setError(String((e as Error).message)),
    );
  }, []);
  const run = () => {
    if (yaml === null) return;
    const whatIf = whatIfBody(stress, regions, i18n);
    if ("invalid" in whatIf) {
      setError(whatIf.invalid);
      return;
    }
    setRunning(true);
    setError(null);
    // Run as the signed-in user: the server records the session's principal.
    postJson<{ id: string }>("/v1/simulations", { yaml, ...whatIf })
      .then(({ id }) => reportWhenDone(id))
      .then(
        (s) => {
          setResult(s);
          setRunning(false);
        },
        (e: unknown) => {
          setError(String((e as Error).message));
          setRunning(false);
        },
      );
  };
  return (
    <>
      <form
        className="card policy-editor"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <label htmlFor="candidate-yaml">
          <h3>{t("simulation.candidatePolicy")}</h3>
        </label>
        <p className="muted">{t("simulation.hint")}</p>
        <textarea
          id="candidate-yaml"
          data-testid="candidate-yaml"
          spellCheck={false}
          rows={18}
          value={yaml ?? ""}
          disabled={yaml === null}
          onChange={(e) => setYaml(e.target.value)}
        />
        <WhatIfFields
          stress={stress}
          setStress={setStress}
          regions={regions}
          setRegion={(g, v) => setRegions((r) => ({ ...r, [g]: v }))}
        />
        <div className="filters">
          <button type="submit" data-testid="run-simulation" disabled={running || yaml === null}>
            {running ? t("simulation.running") : t("simulation.run")}
          </button>
        </div>
        {error !== null && (
          <p className="error" role="alert" data-testid="simulation-error">
            {error}
          </p>
        )}
      </form>
      {result !== null && <Report simulation={result} />}
    </>
  );
}

/** An analyst's what-if: a candidate policy over the open book, nothing applied. */
export function Simulation({ simulationId }: { simulationId: string | null }) {
  const { t } = useI18n();
  const stored = useApi<SimulationView>(
    simulationId === null ? null : `/v1/simulations/${encodeURIComponent(simulationId)}?hits=${HITS_SHOWN}`,
  );
  return (
    <div className="screen">
      <h2>{t("simulation.title")}</h2>
      {simulationId === null ? <Editor /> : <Async loaded={stored}>{(s) => <Report simulation={s} />}</Async>}
    </div>
  );
}
