import { sql } from "kysely";
import { type LineStatus, tierFor } from "../engine/decide.ts";
import { decodeFeatureState } from "../engine/featureStateCodec.ts";
import { readFeatures } from "../engine/features.ts";
import { MS_PER_DAY } from "../engine/time.ts";
import type { Store } from "../store/connect.ts";
import type { ActiveEngine } from "./engineConfig.ts";

/** Lines, limits and drawn balances of one slice of the book (money in fen). */
export interface ExposureSlice {
  key: string;
  accounts: number;
  limit: number;
  balance: number;
  /** Undrawn limit on active lines: what the book could still lend today. */
  available: number;
}

export interface PortfolioExposure {
  asOf: string;
  total: ExposureSlice;
  byRegion: ExposureSlice[];
  bySegment: ExposureSlice[];
  byStatus: ExposureSlice[];
  /** Risk tier of each open line under the active model and policy, scored on its features now. */
  byTier: ExposureSlice[];
  scoreHistogram: { from: number; to: number; accounts: number }[];
  policyVersion: string;
  modelVersion: string;
}

export const SCORE_BUCKET = 20;
const PAGE = 2000;

function emptySlice(key: string): ExposureSlice {
  return { key, accounts: 0, limit: 0, balance: 0, available: 0 };
}

function addTo(
  slices: Map<string, ExposureSlice>,
  key: string,
  limit: number,
  balance: number,
  open: boolean,
) {
  let slice = slices.get(key);
  if (slice === undefined) {
    slice = emptySlice(key);
    slices.set(key, slice);
  }
  slice.accounts++;
  slice.limit += limit;
  slice.balance += balance;
  if (open) slice.available += Math.max(0, limit - balance);
}

const sorted = (slices: Map<string, ExposureSlice>) =>
  [...slices.values()].sort((a, b) => a.key.localeCompare(b.key));

/**
 * One pass over the book: exposure by region, segment, status and current risk tier, and the
 * distribution of current scores. Tiers and scores are not stored on the line (they move with every
 * event), so each line's features are read and scored here with the active model, a page at a time.
 */
export async function portfolioExposure(
  store: Store,
  engine: ActiveEngine,
  now: number,
): Promise<PortfolioExposure> {
  const total = emptySlice("all");
  const byRegion = new Map<string, ExposureSlice>();
  const bySegment = new Map<string, ExposureSlice>();
  const byStatus = new Map<string, ExposureSlice>();
  const byTier = new Map<string, ExposureSlice>(
    engine.policy.tiers.rows.map((t) => [t.id, emptySlice(t.id)]),
  );
  const scores = new Map<number, number>();
  let after = "";
  for (;;) {
    const rows = await store.db
      .selectFrom("credit_lines")
      .select(["account_id", "region", "segment", "status", "limit_amount", "balance", "features"])
      .where("account_id", ">", after)
      .orderBy("account_id")
      .limit(PAGE)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const active = row.status === "ACTIVE";
      const { limit_amount: limit, balance } = row;
      total.accounts++;
      total.limit += limit;
      total.balance += balance;
      if (active) total.available += Math.max(0, limit - balance);
      addTo(byRegion, row.region, limit, balance, active);
      addTo(bySegment, row.segment, limit, balance, active);
      addTo(byStatus, row.status, limit, balance, active);
      if (row.status === "CLOSED") continue;
      const features = readFeatures(decodeFeatureState(row.features), { limit, balance }, now);
      const { score } = engine.scorer(features);
      addTo(
        byTier,
        tierFor(engine.policy, features, score, row.status as LineStatus).id,
        limit,
        balance,
        active,
      );
      const bucket = Math.floor(score / SCORE_BUCKET) * SCORE_BUCKET;
      scores.set(bucket, (scores.get(bucket) ?? 0) + 1);
    }
    after = rows[rows.length - 1]?.account_id ?? after;
  }
  return {
    asOf: new Date(now).toISOString(),
    total,
    byRegion: sorted(byRegion),
    bySegment: sorted(bySegment),
    byStatus: sorted(byStatus),
    byTier: [...byTier.values()],
    scoreHistogram: [...scores.entries()]
      .sort(([a], [b]) => a - b)
      .map(([from, accounts]) => ({ from, to: from + SCORE_BUCKET, accounts })),
    policyVersion: engine.policy.version,
    modelVersion: engine.model.version,
  };
}

export type ChangeBucket = "day" | "week";

export interface LimitChangePoint {
  /** Start of the bucket (UTC midnight; weeks start on the epoch's weekday, a Thursday). */
  at: string;
  action: string;
  changes: number;
  /** Sum of new limit minus old limit over the bucket's changes (fen). */
  limitDelta: number;
}

/** Changes that took effect on lines, counted per day or week and per action. */
export async function limitChangesOverTime(
  store: Store,
  options: { bucket: ChangeBucket; from?: number; to?: number },
): Promise<LimitChangePoint[]> {
  const width = options.bucket === "week" ? 7 * MS_PER_DAY : MS_PER_DAY;
  // Integer division truncates on both SQLite and PostgreSQL; the width is a literal because
  // better-sqlite3 binds numbers as REAL, which would make the division exact.
  const bucket = sql<number>`(${sql.ref("c.effective_at")} / ${sql.lit(width)})`;
  let query = store.db
    .selectFrom("line_changes as c")
    .innerJoin("decisions as d", "d.id", "c.decision_id")
    .select([
      bucket.as("bucket"),
      "d.action as action",
      (eb) => eb.fn.countAll<number>().as("changes"),
      sql<number>`sum(${sql.ref("c.to_limit")} - ${sql.ref("c.from_limit")})`.as("limitDelta"),
    ])
    .groupBy([bucket, "d.action"])
    .orderBy(bucket)
    .orderBy("d.action");
  if (options.from !== undefined) query = query.where("c.effective_at", ">=", options.from);
  if (options.to !== undefined) query = query.where("c.effective_at", "<", options.to);
  const rows = await query.execute();
  return rows.map((r) => ({
    at: new Date(Number(r.bucket) * width).toISOString(),
    action: r.action,
    changes: Number(r.changes),
    limitDelta: Number(r.limitDelta),
  }));
}

export interface ActivityCounts {
  /** Notices in the outbox by kind and delivery status. */
  notices: { kind: string; status: string; count: number }[];
  /** Decisions by action and status (applied, scheduled, pending_review, no_change, cancelled). */
  decisions: { action: string; status: string; count: number }[];
}

export async function activityCounts(store: Store): Promise<ActivityCounts> {
  const notices = await store.db
    .selectFrom("outbox")
    .select(["kind", "status", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy(["kind", "status"])
    .orderBy("kind")
    .orderBy("status")
    .execute();
  const decisions = await store.db
    .selectFrom("decisions")
    .select(["action", "status", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy(["action", "status"])
    .orderBy("action")
    .orderBy("status")
    .execute();
  return {
    notices: notices.map((n) => ({ kind: n.kind, status: n.status, count: Number(n.count) })),
    decisions: decisions.map((d) => ({ action: d.action, status: d.status, count: Number(d.count) })),
  };
}
