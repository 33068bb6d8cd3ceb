import type { Kysely, Transaction } from "kysely";
import type { ClassMeasures, ClassWide } from "../engine/decide.ts";
import type { Database } from "../store/schema.ts";

/** The class-wide measures in force: each region's risk factor and the portfolio stress multiplier. */
export interface ClassMeasureSettings {
  regions: Record<string, number>;
  stress: number;
}

/** The engine's input for one region; nothing when no measure is in force there. */
export function measuresFor(settings: ClassMeasureSettings, region: string): ClassMeasures | undefined {
  const regionFactor = settings.regions[region] ?? 1;
  if (regionFactor === 1 && settings.stress === 1) return undefined;
  return { regionFactor, stressMultiplier: settings.stress };
}

/**
 * The latest setting per region and for stress: the measures decisions read in this transaction.
 * With `asOf`, the measures that were in force at that instant (settings made up to it).
 */
export async function classMeasuresIn(
  db: Kysely<Database> | Transaction<Database>,
  asOf?: number,
): Promise<ClassMeasureSettings> {
  let query = db.selectFrom("risk_settings").selectAll();
  if (asOf !== undefined) query = query.where("at", "<=", asOf);
  const rows = await query.orderBy("at").orderBy("id").execute();
  const settings: ClassMeasureSettings = { regions: {}, stress: 1 };
  for (const r of rows) {
    if (r.kind === "stress") settings.stress = r.factor;
    else if (r.region !== null) settings.regions[r.region] = r.factor;
  }
  return settings;
}

/**
 * Hypothetical measures (a simulation's what-if): as if this stress multiplier and these region
 * factors were set on top of the measures in force. Nothing is set; only a candidate runs under them.
 */
export interface WhatIfMeasures {
  stress?: number;
  regions?: Record<string, number>;
}

/** The measures in force with a what-if set on top of them. */
export function withWhatIf(settings: ClassMeasureSettings, whatIf: WhatIfMeasures): ClassMeasureSettings {
  return {
    regions: { ...settings.regions, ...whatIf.regions },
    stress: whatIf.stress ?? settings.stress,
  };
}

/**
 * What a notice says about a decision class-wide measures made: that it applies to a whole region
 * or the whole portfolio and is not a judgement about the borrower personally.
 */
export function classWideNotice(c: ClassWide, region: string) {
  const regional = c.regionFactor !== 1;
  const portfolio = c.stressMultiplier !== 1;
  const scope =
    regional && portfolio ? "regional and portfolio-wide" : regional ? "regional" : "portfolio-wide";
  const zhScope = regional && portfolio ? "区域性及全局性" : regional ? "区域性" : "全局性";
  const what = [
    ...(regional ? [`the risk factor for region ${region} (${c.regionFactor})`] : []),
    ...(portfolio ? [`the portfolio stress multiplier (${c.stressMultiplier})`] : []),
  ].join(" and ");
  const zhWhat = [
    ...(regional ? [`${region}区域风险系数（${c.regionFactor}）`] : []),
    ...(portfolio ? [`组合压力系数（${c.stressMultiplier}）`] : []),
  ].join("及");
  return {
    scope: regional && portfolio ? "regional+portfolio" : regional ? "regional" : "portfolio",
    regionFactor: c.regionFactor,
    stressMultiplier: c.stressMultiplier,
    en: `This is a ${scope} measure, set through ${what} for all borrowers it covers; it is not a judgement about you personally.`,
    zh: `这是一项${zhScope}措施（${zhWhat}），适用于所涉及的全部借款人，并非针对您个人的评价。`,
  };
}
