import { existsSync } from "node:fs";
import { join } from "node:path";
import { FEATURES, type FeatureName } from "../engine/features.ts";
import type { PointsModel } from "../engine/model.ts";
import { seededRandom } from "../engine/random.ts";
import { type Dataset, selectRows } from "../engine/scorecard/dataset.ts";
import { toPointsModel } from "../engine/scorecard/pointsModel.ts";
import { stratifiedSplit } from "../engine/scorecard/split.ts";
import { DEFAULT_TRAINING, trainScorecard } from "../engine/scorecard/train.ts";
import { type ValidationReport, validateScorecard } from "../engine/scorecard/validation.ts";
import { dataDirectory, loadLabelledCsv } from "./dataset.ts";

/**
 * The engine scores its own behavioural features, so its default model is trained on Give Me Some
 * Credit with each column read as the engine feature it measures. Columns with no engine
 * counterpart (age, dependants, real-estate loans) are not used; engine features with no column
 * (inquiries, new lenders, days past due now, login anomalies) are left to the policy's rules.
 */
const GMSC_AS_FEATURES: { feature: FeatureName; from: (row: (name: string) => number) => number }[] = [
  { feature: "utilisation", from: (r) => r("RevolvingUtilizationOfUnsecuredLines") },
  // Without an income the data set's DebtRatio is a debt amount, not a ratio: unknown.
  { feature: "debtToIncome", from: (r) => (Number.isNaN(r("MonthlyIncome")) ? Number.NaN : r("DebtRatio")) },
  {
    feature: "overdueCount12m",
    from: (r) => {
      const counts = [
        r("NumberOfTime30-59DaysPastDueNotWorse"),
        r("NumberOfTime60-89DaysPastDueNotWorse"),
        r("NumberOfTimes90DaysLate"),
      ];
      // 96 and 98 are codes for "not recorded", not counts.
      return counts.some((c) => c >= 96) ? Number.NaN : counts.reduce((a, b) => a + b, 0);
    },
  },
  { feature: "otherLenders", from: (r) => r("NumberOfOpenCreditLinesAndLoans") },
  // Dollars a month read as yuan, in fen, as the demo reads them.
  { feature: "monthlyIncome", from: (r) => r("MonthlyIncome") * 100 },
];

export const GMSC_FILE = "give-me-some-credit.csv.gz";
export const DEFAULT_MODEL_VERSION = "gmsc-behaviour-1";

export function gmscAsEngineFeatures(data: Dataset): Dataset {
  const index = new Map(data.names.map((n, i) => [n, i]));
  const rows = data.target.length;
  const columns = GMSC_AS_FEATURES.map(({ from }) =>
    Float64Array.from({ length: rows }, (_, r) =>
      from((name) => {
        const c = index.get(name);
        if (c === undefined) throw new Error(`Give Me Some Credit has no column ${name}`);
        return (data.columns[c] as Float64Array)[r] as number;
      }),
    ),
  );
  return {
    names: GMSC_AS_FEATURES.map((m) => m.feature),
    columns,
    levels: columns.map(() => null),
    target: data.target,
  };
}

/** Per feature, how many held-out rows fall in each band: the baseline for live CSI. */
export type FeatureBaselines = Partial<Record<FeatureName, number[]>>;

export function bandCounts(model: PointsModel, feature: FeatureName, values: Iterable<number>): number[] {
  const bands = model.bands[feature] ?? [];
  const counts = new Array<number>(bands.length).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    let b = 0;
    while (
      b < bands.length - 1 &&
      !(v < ((bands[b] as { below: number | null }).below ?? Number.POSITIVE_INFINITY))
    )
      b++;
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/** Trains the default behavioural model; null when the data set is absent. */
export function trainDefaultModel(): {
  model: PointsModel;
  validation: ValidationReport;
  featureBaselines: FeatureBaselines;
} | null {
  const file = join(dataDirectory(), GMSC_FILE);
  if (!existsSync(file)) return null;
  const data = gmscAsEngineFeatures(loadLabelledCsv(file, { target: "SeriousDlqin2yrs", bad: "1" }));
  const split = stratifiedSplit(data.target, 0.3, seededRandom(42));
  const { scorecard } = trainScorecard(
    selectRows(data, split.train),
    DEFAULT_MODEL_VERSION,
    DEFAULT_TRAINING,
  );
  const isFeature = (name: string): name is FeatureName => name in FEATURES;
  const model = toPointsModel(scorecard, isFeature);
  const test = selectRows(data, split.test);
  const featureBaselines: FeatureBaselines = {};
  test.names.forEach((name, c) => {
    if (isFeature(name) && model.bands[name] !== undefined) {
      featureBaselines[name] = bandCounts(model, name, test.columns[c] as Float64Array);
    }
  });
  return { model, validation: validateScorecard(scorecard, test), featureBaselines };
}
