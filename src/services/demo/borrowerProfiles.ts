import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { Random } from "../../engine/random.ts";

/** What the demo needs to simulate one borrower's behaviour. */
export interface BorrowerProfile {
  monthlyIncomeYuan: number;
  age: number;
  /** Share of the line the borrower tends to use. */
  utilisation: number;
  debtRatio: number;
  openLoans: number;
  pastLates: number;
  /** The real row's outcome: serious delinquency within two years. */
  bad: boolean;
}

export function dataDir(): string {
  return process.env.HEADROOM_DATA_DIR ?? join(process.cwd(), "..", "shared", "data");
}

const GMSC_FILE = "give-me-some-credit.csv.gz";
const MAX_PROFILES = 200_000;

function numberOr(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text === undefined || text === "" || text === "NA" || !Number.isFinite(value) ? fallback : value;
}

/**
 * Real rows of Give Me Some Credit, so demo distributions (income, utilisation, debt, lateness,
 * outcome) are real. Returns null when the data set is absent.
 */
export async function loadRealProfiles(limit: number): Promise<BorrowerProfile[] | null> {
  const file = join(dataDir(), GMSC_FILE);
  if (!existsSync(file)) return null;
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const profiles: BorrowerProfile[] = [];
  let header: string[] | null = null;
  for await (const line of lines) {
    const cells = line.split(",");
    if (header === null) {
      header = cells;
      continue;
    }
    const col = (name: string) => cells[(header as string[]).indexOf(name)];
    const late = numberOr(col("NumberOfTime30-59DaysPastDueNotWorse"), 0);
    profiles.push({
      monthlyIncomeYuan: Math.max(1500, Math.min(numberOr(col("MonthlyIncome"), 6000), 100_000)),
      age: numberOr(col("age"), 35),
      utilisation: Math.max(0, Math.min(numberOr(col("RevolvingUtilizationOfUnsecuredLines"), 0.3), 1)),
      debtRatio: Math.max(0, Math.min(numberOr(col("DebtRatio"), 0.3), 2)),
      openLoans: Math.min(numberOr(col("NumberOfOpenCreditLinesAndLoans"), 3), 12),
      // 96 and 98 are the data set's codes for "not recorded", not counts.
      pastLates: late >= 96 ? 0 : Math.min(late, 10),
      bad: col("SeriousDlqin2yrs") === "1",
    });
    if (profiles.length >= Math.min(limit, MAX_PROFILES)) break;
  }
  lines.close();
  return profiles;
}

/** Built-in distributions shaped like the real data, for machines without ../shared/data. */
export function syntheticProfile(random: Random): BorrowerProfile {
  const bad = random.next() < 0.067;
  return {
    monthlyIncomeYuan: Math.round(2500 + -Math.log(1 - random.next()) * 5000),
    age: 21 + random.int(50),
    utilisation: Math.min(1, random.next() ** (bad ? 0.5 : 2)),
    debtRatio: Math.min(2, random.next() * (bad ? 0.9 : 0.5)),
    openLoans: random.poisson(bad ? 6 : 4),
    pastLates: random.poisson(bad ? 1.2 : 0.15),
    bad,
  };
}
