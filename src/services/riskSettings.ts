import type { Kysely } from "kysely";
import { REGIONS } from "../engine/events.ts";
import { bodyHash } from "../engine/ledger.ts";
import type { Database, RiskSettingTable } from "../store/schema.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { runReview } from "./review.ts";
import { appendToLedger } from "./writeSet.ts";

export type RiskMeasure =
  | { kind: "region"; region: string; factor: number }
  | { kind: "stress"; factor: number };

/** Bounds on a factor: a measure may halve target limits or raise them by half, no more. */
export const MIN_FACTOR = 0.5;
export const MAX_FACTOR = 1.5;

export class RiskSettingError extends Error {}

/** What is wrong with a factor (a region's or the stress multiplier), or null when it is allowed. */
export function factorProblem(factor: number): string | null {
  return factor >= MIN_FACTOR && factor <= MAX_FACTOR
    ? null
    : `must be between ${MIN_FACTOR} and ${MAX_FACTOR}, got ${factor}`;
}

/** What is wrong with a region name, or null when it is one of the regions. */
export function regionProblem(region: string): string | null {
  return (REGIONS as readonly string[]).includes(region)
    ? null
    : `must be one of ${REGIONS.join(", ")}; got ${region}`;
}

export function riskSettingBodyHash(r: RiskSettingTable): string {
  return bodyHash([r.id, r.kind, r.region, r.factor, r.actor, r.reason, r.at]);
}

/**
 * An analyst sets a region's risk factor or the portfolio stress multiplier, with a reason; the
 * setting is sealed in the ledger, then every open line it touches is decided again (a review run
 * named after the setting, so a crash resumes it). Decisions the measure made are marked
 * class-wide in their records and notices.
 */
export async function setRiskMeasure(
  deps: IngestDeps,
  measure: RiskMeasure,
  actor: string,
  reason: string,
): Promise<{ settingId: string; reviewed: number; changed: number }> {
  const badFactor = factorProblem(measure.factor);
  if (badFactor !== null) throw new RiskSettingError(`factor ${badFactor}`);
  const badRegion = measure.kind === "region" ? regionProblem(measure.region) : null;
  if (badRegion !== null) throw new RiskSettingError(`region ${badRegion}`);
  const at = deps.clock();
  const region = measure.kind === "region" ? measure.region : null;
  const row: RiskSettingTable = {
    id: deterministicId("rsk", `${measure.kind}:${region}:${measure.factor}:${actor}:${at}`),
    kind: measure.kind,
    region,
    factor: measure.factor,
    actor,
    reason,
    at,
  };
  await deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      // The same setting by the same actor in the same millisecond is a retry: recorded once.
      const inserted = await trx
        .insertInto("risk_settings")
        .values(row)
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
      await appendToLedger(
        trx,
        deps.store,
        [{ kind: "risk_setting", refId: row.id, bodyHash: riskSettingBodyHash(row) }],
        at,
      );
    }),
  );
  const review = await runReview(deps, `measure-${row.id}`, undefined, region === null ? {} : { region });
  return { settingId: row.id, reviewed: review.reviewed, changed: review.changed };
}

/** Every setting, latest first: who set what, when and why. */
export async function riskSettingHistory(db: Kysely<Database>): Promise<RiskSettingTable[]> {
  return db.selectFrom("risk_settings").selectAll().orderBy("at", "desc").orderBy("id", "desc").execute();
}
