import { useEffect, useMemo, useState } from "react";
import uPlot from "uplot";
import { useApi } from "../api.ts";
import { Async } from "../components/Async.tsx";
import { ExposureTable } from "../components/ExposureTable.tsx";
import { featureLabel } from "../components/featureValue.ts";
import { UPlotChart } from "../components/UPlotChart.tsx";
import { useI18n } from "../i18n/I18n.tsx";
import type {
  ActivityCounts,
  BudgetView,
  JobProgress,
  LimitChangePoint,
  PortfolioExposure,
  Reference,
  StabilityReport,
} from "../types.ts";

export const ACTION_COLOURS: Record<string, string> = {
  increase: "#2e7d32",
  decrease: "#ef6c00",
  freeze: "#1565c0",
  close: "#c62828",
  reopen: "#6a1b9a",
};

function ChangesChart({ points }: { points: LimitChangePoint[] }) {
  const { t, code } = useI18n();
  const { options, data } = useMemo(() => {
    const times = [...new Set(points.map((p) => Date.parse(p.at) / 1000))].sort((a, b) => a - b);
    const actions = [...new Set(points.map((p) => p.action))].sort();
    const index = new Map(times.map((x, i) => [x, i]));
    const series = actions.map((action) => {
      const ys = times.map(() => 0);
      for (const p of points)
        if (p.action === action) ys[index.get(Date.parse(p.at) / 1000) as number] = p.changes;
      return ys;
    });
    const options: Omit<uPlot.Options, "width" | "height"> = {
      series: [
        {},
        ...actions.map((action) => ({
          label: code("action", action),
          stroke: ACTION_COLOURS[action] ?? "#555",
          width: 2,
          points: { show: true, size: 5 },
        })),
      ],
      axes: [{}, { label: t("portfolio.changesAxis") }],
      scales: { x: { time: true } },
    };
    return { options, data: [times, ...series] as uPlot.AlignedData };
  }, [points, t, code]);
  return <UPlotChart options={options} data={data} testId="changes-chart" />;
}

function ScoreChart({ histogram }: { histogram: PortfolioExposure["scoreHistogram"] }) {
  const { t } = useI18n();
  const { options, data } = useMemo(() => {
    const bars = uPlot.paths.bars?.({ size: [0.9, 60] });
    const options: Omit<uPlot.Options, "width" | "height"> = {
      series: [
        { label: t("portfolio.scoreAxis") },
        {
          label: t("portfolio.linesAxis"),
          stroke: "#1565c0",
          fill: "rgba(21,101,192,0.35)",
          paths: bars,
          points: { show: false },
        },
      ],
      axes: [{ label: t("portfolio.scoreAxis") }, { label: t("portfolio.linesAxis") }],
      scales: { x: { time: false } },
    };
    const data: uPlot.AlignedData = [
      histogram.map((h) => h.from + (h.to - h.from) / 2),
      histogram.map((h) => h.accounts),
    ];
    return { options, data };
  }, [histogram, t]);
  return <UPlotChart options={options} data={data} testId="score-chart" />;
}

function Jobs() {
  const { t, dateTime, percent, number } = useI18n();
  const [tick, setTick] = useState(0);
  const jobs = useApi<{ jobs: JobProgress[] }>("/v1/jobs?limit=5", tick);
  const running = jobs.state === "ready" && jobs.data.jobs.some((j) => !j.done);
  // Poll while a job runs; each answer that still shows one running keeps the interval going.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setTick((n) => n + 1), 2000);
    return () => clearInterval(timer);
  }, [running]);
  return (
    <section className="card" data-testid="jobs">
      <h3>{t("portfolio.jobs")}</h3>
      <Async loaded={jobs}>
        {({ jobs }) =>
          jobs.length === 0 ? (
            <p className="muted">{t("portfolio.noJobs")}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>{t("portfolio.job")}</th>
                  <th>{t("portfolio.progress")}</th>
                  <th>{t("portfolio.updated")}</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <tr key={j.job}>
                    <td>{j.job}</td>
                    <td>
                      {j.processed !== null && j.total !== null && j.total > 0 ? (
                        <>
                          <progress value={j.processed} max={j.total} /> {number(j.processed)}/
                          {number(j.total)} ({percent(j.processed / j.total)})
                        </>
                      ) : null}{" "}
                      {j.done ? t("portfolio.done") : t("portfolio.running")}
                    </td>
                    <td>{dateTime(j.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}

/** Each exposure budget's usage against its cap, and the increases waiting for room. */
function Budgets() {
  const { t, money, number, percent } = useI18n();
  const budgets = useApi<{ budgets: BudgetView[] }>("/v1/budgets");
  return (
    <section className="card" data-testid="budgets">
      <h3>{t("portfolio.budgets")}</h3>
      <Async loaded={budgets}>
        {({ budgets }) =>
          budgets.length === 0 ? (
            <p className="muted">{t("portfolio.budgetsNone")}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>{t("portfolio.budgetScope")}</th>
                  <th>{t("portfolio.budgetMeasure")}</th>
                  <th>{t("portfolio.budgetUsed")}</th>
                  <th className="num">{t("portfolio.budgetWaiting")}</th>
                </tr>
              </thead>
              <tbody>
                {budgets.map((b) => (
                  <tr key={b.id}>
                    <td>{b.scope}</td>
                    <td>{t(`portfolio.budgetMeasure.${b.measure}`)}</td>
                    <td>
                      <progress value={Math.min(b.used, b.cap)} max={Math.max(b.cap, 1)} /> {money(b.used)} /{" "}
                      {money(b.cap)} ({percent(b.cap > 0 ? b.used / b.cap : 1)})
                    </td>
                    <td className="num">{number(b.waiting)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}

/** PSI of live scores and CSI of each feature against the held-out sample the model was validated on. */
function Stability() {
  const { t, code, number, lang } = useI18n();
  const stability = useApi<{ stability: StabilityReport | null }>("/v1/portfolio/stability");
  const reference = useApi<Reference>("/v1/reference");
  const labels = new Map(reference.state === "ready" ? reference.data.features.map((f) => [f.name, f]) : []);
  return (
    <section className="card" data-testid="stability">
      <h3>{t("portfolio.stability")}</h3>
      <Async loaded={stability}>
        {({ stability: s }) =>
          s === null ? (
            <p className="muted">{t("portfolio.stabilityNone")}</p>
          ) : (
            <>
              <p className="muted">
                {t("portfolio.stabilityOf", { decisions: number(s.decisions), model: s.modelVersion })}
              </p>
              <p data-testid="score-psi">
                {t("portfolio.scorePsi")} <strong>{number(s.score.psi, 3)}</strong>{" "}
                <span className={`band band-${s.score.band}`}>{code("band", s.score.band)}</span>
              </p>
              <table>
                <thead>
                  <tr>
                    <th>{t("portfolio.feature")}</th>
                    <th className="num">{t("portfolio.csi")}</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {s.features.map((f) => {
                    const def = labels.get(f.feature);
                    return (
                      <tr key={f.feature}>
                        <td>{def === undefined ? f.feature : featureLabel(def, lang)}</td>
                        <td className="num">{number(f.csi, 3)}</td>
                        <td>
                          <span className={`band band-${f.band}`}>{code("band", f.band)}</span>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          )
        }
      </Async>
    </section>
  );
}

function CountsTable({
  title,
  rows,
  first,
  firstLabel,
  statusGroup,
  testId,
}: {
  title: string;
  rows: { key: string; status: string; count: number }[];
  first: string;
  firstLabel: (key: string) => string;
  statusGroup: "noticeStatus" | "decisionStatus";
  testId: string;
}) {
  const { t, code, number } = useI18n();
  return (
    <section className="card" data-testid={testId}>
      <h3>{title}</h3>
      <table>
        <thead>
          <tr>
            <th>{first}</th>
            <th>{t("portfolio.status")}</th>
            <th className="num">{t("portfolio.count")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.key}/${r.status}`}>
              <td>{firstLabel(r.key)}</td>
              <td>{code(statusGroup, r.status)}</td>
              <td className="num">{number(r.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Portfolio() {
  const { t, code, money, number, dateTime } = useI18n();
  const exposure = useApi<PortfolioExposure>("/v1/portfolio/exposure");
  const changes = useApi<{ points: LimitChangePoint[] }>("/v1/portfolio/limit-changes?bucket=week");
  const activity = useApi<ActivityCounts>("/v1/portfolio/activity");
  return (
    <div className="screen">
      <h2>{t("portfolio.title")}</h2>
      <Async loaded={exposure}>
        {(e) => (
          <>
            <p className="muted">
              {t("portfolio.asOf", { at: dateTime(e.asOf), policy: e.policyVersion, model: e.modelVersion })}
            </p>
            <div className="kpis" data-testid="kpis">
              <div className="kpi">
                <span>{t("portfolio.accounts")}</span>
                <strong>{number(e.total.accounts)}</strong>
              </div>
              <div className="kpi">
                <span>{t("portfolio.limit")}</span>
                <strong>{money(e.total.limit)}</strong>
              </div>
              <div className="kpi">
                <span>{t("portfolio.balance")}</span>
                <strong>{money(e.total.balance)}</strong>
              </div>
              <div className="kpi">
                <span>{t("portfolio.available")}</span>
                <strong>{money(e.total.available)}</strong>
              </div>
            </div>
            <div className="grid">
              <section className="card wide">
                <h3>{t("portfolio.changesOverTime")}</h3>
                <Async loaded={changes}>{(c) => <ChangesChart points={c.points} />}</Async>
              </section>
              <section className="card wide">
                <h3>{t("portfolio.scoreDistribution")}</h3>
                <ScoreChart histogram={e.scoreHistogram} />
              </section>
              <ExposureTable
                title={t("portfolio.byRegion")}
                slices={e.byRegion}
                label={(k) => code("region", k)}
                testId="by-region"
              />
              <ExposureTable
                title={t("portfolio.bySegment")}
                slices={e.bySegment}
                label={(k) => code("segment", k)}
                testId="by-segment"
              />
              <ExposureTable
                title={t("portfolio.byTier")}
                slices={e.byTier}
                label={(k) => t("portfolio.tier", { tier: k })}
                testId="by-tier"
              />
              <ExposureTable
                title={t("portfolio.byStatus")}
                slices={e.byStatus}
                label={(k) => code("status", k)}
                testId="by-status"
              />
            </div>
          </>
        )}
      </Async>
      <Async loaded={activity}>
        {(a) => (
          <div className="grid">
            <CountsTable
              title={t("portfolio.notices")}
              rows={a.notices.map((n) => ({ key: n.kind, status: n.status, count: n.count }))}
              first={t("portfolio.kind")}
              firstLabel={(k) => code("notice", k)}
              statusGroup="noticeStatus"
              testId="notice-counts"
            />
            <CountsTable
              title={t("portfolio.decisions")}
              rows={a.decisions.map((d) => ({ key: d.action, status: d.status, count: d.count }))}
              first={t("portfolio.action")}
              firstLabel={(k) => code("action", k)}
              statusGroup="decisionStatus"
              testId="decision-counts"
            />
          </div>
        )}
      </Async>
      <div className="grid">
        <Stability />
        <Jobs />
        <Budgets />
      </div>
    </div>
  );
}
