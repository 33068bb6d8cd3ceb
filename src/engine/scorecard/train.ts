import {
  type BinningOptions,
  binCategorical,
  binNumeric,
  DEFAULT_BINNING,
  type FeatureBinning,
} from "./binning.ts";
import type { Dataset } from "./dataset.ts";
import { DEFAULT_LOGISTIC, fitLogistic, type LogisticOptions } from "./logistic.ts";
import { binIndexTable, type Scorecard, type ScorecardFeature } from "./scorecard.ts";

export interface TrainOptions {
  binning: BinningOptions;
  /** Special values for named columns only (others use binning.specialValues). */
  specialValuesByColumn: Record<string, number[]>;
  /** Features below this information value are left out. */
  minIv: number;
  /** Of two features whose WoE correlate more than this, the one with less IV is left out. */
  maxCorrelation: number;
  logistic: LogisticOptions;
  scaling: { score: number; odds: number; pdo: number };
}

export const DEFAULT_TRAINING: TrainOptions = {
  binning: DEFAULT_BINNING,
  specialValuesByColumn: {},
  minIv: 0.02,
  maxCorrelation: 0.8,
  logistic: DEFAULT_LOGISTIC,
  scaling: { score: 600, odds: 50, pdo: 20 },
};

export interface TrainingReport {
  rows: number;
  bads: number;
  /** Every candidate feature with its IV and whether (and why not) it was used. */
  features: { feature: string; iv: number; used: boolean; note: string }[];
  iterations: number;
  converged: boolean;
}

/** Fits binnings, selects features, fits the logistic regression on WoE and scales to points. */
export function trainScorecard(
  data: Dataset,
  version: string,
  options: TrainOptions = DEFAULT_TRAINING,
): { scorecard: Scorecard; report: TrainingReport } {
  const binnings = data.names.map((name, c) => {
    const levels = data.levels[c];
    const column = data.columns[c] as Float64Array;
    if (levels !== null && levels !== undefined) {
      const binning = binCategorical(
        name,
        Array.from(column, (code) => levels[code] as string),
        data.target,
        options.binning,
      );
      return binning;
    }
    const specialValues = options.specialValuesByColumn[name] ?? options.binning.specialValues;
    return binNumeric(name, column, data.target, { ...options.binning, specialValues });
  });
  const notes = new Map<string, string>();
  const woe = binnings.map((b, c) => woeColumn(b, data, c));
  const byIv = binnings.map((b, c) => ({ b, c })).sort((x, y) => y.b.iv - x.b.iv);
  let selected: number[] = [];
  for (const { b, c } of byIv) {
    if (b.iv < options.minIv) {
      notes.set(b.feature, `IV ${b.iv.toFixed(3)} below ${options.minIv}`);
      continue;
    }
    const twin = selected.find(
      (s) => Math.abs(correlation(woe[s] as Float64Array, woe[c] as Float64Array)) > options.maxCorrelation,
    );
    if (twin !== undefined) {
      notes.set(b.feature, `correlates with ${data.names[twin]} above ${options.maxCorrelation}`);
      continue;
    }
    selected.push(c);
  }
  // A feature whose coefficient says "better WoE, more bads" is fighting the others: drop it and refit.
  for (;;) {
    const fit = fitOn(selected, woe, data, options.logistic);
    const wrong = selected.findIndex((_, k) => (fit.coefficients[k] as number) > 0);
    if (wrong < 0 || selected.length === 1) {
      return assemble(data, binnings, selected, fit, version, options, notes);
    }
    notes.set(data.names[selected[wrong] as number] as string, "coefficient sign opposite to its WoE");
    selected = selected.filter((_, k) => k !== wrong);
  }
}

function fitOn(selected: number[], woe: Float64Array[], data: Dataset, options: LogisticOptions) {
  const rows = data.target.length;
  const x = new Float64Array(rows * selected.length);
  selected.forEach((c, k) => {
    const column = woe[c] as Float64Array;
    for (let r = 0; r < rows; r++) x[r * selected.length + k] = column[r] as number;
  });
  return fitLogistic(x, rows, selected.length, data.target, options);
}

function assemble(
  data: Dataset,
  binnings: FeatureBinning[],
  selected: number[],
  fit: ReturnType<typeof fitLogistic>,
  version: string,
  options: TrainOptions,
  notes: Map<string, string>,
): { scorecard: Scorecard; report: TrainingReport } {
  const factor = options.scaling.pdo / Math.LN2;
  const offset = options.scaling.score - factor * Math.log(options.scaling.odds);
  const features: ScorecardFeature[] = selected.map((c, k) => {
    const binning = binnings[c] as FeatureBinning;
    const beta = fit.coefficients[k] as number;
    return {
      name: binning.feature,
      column: c,
      levels: data.levels[c] ?? null,
      coefficient: beta,
      binning,
      points: binning.bins.map((b) => -factor * beta * b.woe),
    };
  });
  const bads = data.target.reduce((t, v) => t + v, 0);
  return {
    scorecard: {
      version,
      intercept: fit.intercept,
      baseScore: offset - factor * fit.intercept,
      scaling: options.scaling,
      features,
    },
    report: {
      rows: data.target.length,
      bads,
      features: binnings.map((b) => ({
        feature: b.feature,
        iv: b.iv,
        used: features.some((f) => f.name === b.feature),
        note: notes.get(b.feature) ?? "",
      })),
      iterations: fit.iterations,
      converged: fit.converged,
    },
  };
}

function woeColumn(binning: FeatureBinning, data: Dataset, c: number): Float64Array {
  const table = binIndexTable(binning, data.levels[c] ?? null);
  const column = data.columns[c] as Float64Array;
  const out = new Float64Array(column.length);
  for (let r = 0; r < column.length; r++) {
    out[r] = binning.bins[table.indexOf(column[r] as number)]?.woe ?? 0;
  }
  return out;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}
