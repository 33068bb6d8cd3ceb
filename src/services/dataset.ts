import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import type { Dataset } from "../engine/scorecard/dataset.ts";

const MISSING = new Set(["", "NA", "NaN", "nan", "null", "NULL"]);
/** Row ids are not features: the unnamed first column of GMSC, the ID of Taiwan. */
const ID_COLUMNS = new Set(["", "id", "ID"]);
const MAX_ROWS = 5_000_000;

export interface LoadOptions {
  target: string;
  /** The target value that means bad; default "1". */
  bad?: string;
  /** Columns to leave out besides the target and row ids. */
  drop?: readonly string[];
  /**
   * Numeric columns with at most this many distinct values are codes (statuses, counts such as
   * months late): binned as categories, each free to have its own risk. 0 keeps them numeric.
   */
  categoricalUpTo?: number;
}

/** Reads a labelled CSV (or .csv.gz) into a data set: numeric columns as numbers, the rest as categories. */
export function loadLabelledCsv(path: string, options: LoadOptions): Dataset {
  const raw = readFileSync(path);
  const text = (path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
  const records = parse(text, { skip_empty_lines: true, relax_column_count: false }) as string[][];
  const header = records[0];
  if (header === undefined) throw new Error(`${path}: empty file`);
  const rows = records.length - 1;
  if (rows < 2) throw new Error(`${path}: needs at least two data rows`);
  if (rows > MAX_ROWS) throw new Error(`${path}: more than ${MAX_ROWS} rows`);
  const targetIndex = header.indexOf(options.target);
  if (targetIndex < 0)
    throw new Error(`${path}: no column named "${options.target}" (columns: ${header.join(", ")})`);
  const bad = options.bad ?? "1";
  const target = new Uint8Array(rows);
  let bads = 0;
  for (let r = 0; r < rows; r++) {
    const v = (records[r + 1] as string[])[targetIndex];
    target[r] = v === bad ? 1 : 0;
    bads += target[r] as number;
  }
  if (bads === 0 || bads === rows) {
    throw new Error(
      `${path}: target "${options.target}" = "${bad}" marks ${bads} of ${rows} rows; need both classes`,
    );
  }
  const drop = new Set(options.drop ?? []);
  const names: string[] = [];
  const columns: Float64Array[] = [];
  const levels: (string[] | null)[] = [];
  header.forEach((name, c) => {
    if (c === targetIndex || ID_COLUMNS.has(name) || drop.has(name)) return;
    const cells = records.slice(1).map((row) => (row[c] ?? "").trim());
    const distinct = new Set(cells).size;
    const numeric =
      distinct > (options.categoricalUpTo ?? 0) &&
      cells.every((v) => MISSING.has(v) || Number.isFinite(Number(v)));
    names.push(name);
    if (numeric) {
      columns.push(Float64Array.from(cells, (v) => (MISSING.has(v) ? Number.NaN : Number(v))));
      levels.push(null);
    } else {
      const seen = [...new Set(cells.filter((v) => !MISSING.has(v)))].sort();
      const code = new Map(seen.map((v, i) => [v, i]));
      columns.push(Float64Array.from(cells, (v) => code.get(v) ?? Number.NaN));
      levels.push(seen);
    }
  });
  return { names, columns, levels, target };
}

/** How scorecard training reads a CSV unless told otherwise: small-integer codes are categories. */
export const SCORECARD_LOAD_DEFAULTS = { categoricalUpTo: 12 } as const;

/** The public credit data sets, read from ../shared/data (or HEADROOM_DATA_DIR). */
export function dataDirectory(): string {
  return process.env.HEADROOM_DATA_DIR ?? join(process.cwd(), "..", "shared", "data");
}

export interface KnownDataset {
  name: string;
  file: string;
  load: LoadOptions;
  specialValuesByColumn: Record<string, number[]>;
}

const GMSC_PAST_DUE = [
  "NumberOfTime30-59DaysPastDueNotWorse",
  "NumberOfTimes90DaysLate",
  "NumberOfTime60-89DaysPastDueNotWorse",
];
const HELOC_COLUMNS_SPECIAL = [-9, -8, -7];

export const KNOWN_DATASETS: KnownDataset[] = [
  {
    name: "Give Me Some Credit",
    file: "give-me-some-credit.csv.gz",
    load: { target: "SeriousDlqin2yrs", bad: "1" },
    specialValuesByColumn: Object.fromEntries(GMSC_PAST_DUE.map((c) => [c, [96, 98]])),
  },
  {
    name: "Taiwan default",
    file: "taiwan-default.csv",
    load: { target: "default payment next month", bad: "1" },
    specialValuesByColumn: {},
  },
  {
    name: "FICO HELOC",
    file: "heloc.csv",
    load: { target: "RiskPerformance", bad: "Bad" },
    specialValuesByColumn: {},
  },
  {
    name: "German credit",
    file: "german-credit.csv",
    load: { target: "class", bad: "2" },
    specialValuesByColumn: {},
  },
];

/** HELOC codes its special values the same way in every column. */
export function specialValuesFor(dataset: KnownDataset, data: Dataset): Record<string, number[]> {
  if (dataset.file !== "heloc.csv") return dataset.specialValuesByColumn;
  return Object.fromEntries(data.names.map((n) => [n, HELOC_COLUMNS_SPECIAL]));
}
