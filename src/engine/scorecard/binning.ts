/**
 * Optimal binning for scorecards: pre-bin by quantiles, then merge adjacent bins until the bad rate
 * follows the required trend (pool-adjacent-violators) and every bin holds a minimum share of rows.
 * Special values and missing values get bins of their own and never mix with ranges.
 */

export type Trend = "ascending" | "descending" | "peak" | "valley" | "auto";

export interface BinningOptions {
  /** Quantile pre-bins before merging. */
  maxPrebins: number;
  /** Smallest share of the (non-special, non-missing) rows a range bin may hold... */
  minBinShare: number;
  /** ...and never fewer rows than this, so small samples do not get bins of a handful of rows. */
  minBinRows: number;
  trend: Trend;
  /** Codes that mean something other than their number (e.g. -7/-8/-9 in HELOC, 96/98 in GMSC). */
  specialValues: readonly number[];
}

export const DEFAULT_BINNING: BinningOptions = {
  maxPrebins: 200,
  minBinShare: 0.003,
  minBinRows: 25,
  trend: "auto",
  specialValues: [],
};

export type Bin =
  | { kind: "range"; lower: number; upper: number }
  | { kind: "special"; value: number }
  | { kind: "missing" }
  | { kind: "categories"; values: string[] };

export interface BinStats {
  bin: Bin;
  count: number;
  bads: number;
  /** ln(share of goods / share of bads): positive means better than average. */
  woe: number;
  iv: number;
}

export interface FeatureBinning {
  feature: string;
  type: "numeric" | "categorical";
  trend: Exclude<Trend, "auto"> | null;
  bins: BinStats[];
  iv: number;
}

/** A group of rows during merging. */
interface Group {
  lower: number;
  upper: number;
  count: number;
  bads: number;
}

const SMOOTHING = 0.5;

export function woeAndIv(count: number, bads: number, totalGoods: number, totalBads: number) {
  const goods = count - bads;
  const g = (goods + SMOOTHING) / (totalGoods + SMOOTHING);
  const b = (bads + SMOOTHING) / (totalBads + SMOOTHING);
  const woe = Math.log(g / b);
  return { woe, iv: (g - b) * woe };
}

/** Bins one numeric feature; NaN is missing. `target` is 1 for bad, 0 for good. */
export function binNumeric(
  feature: string,
  values: Float64Array,
  target: Uint8Array,
  options: BinningOptions = DEFAULT_BINNING,
): FeatureBinning {
  assertAligned(values.length, target.length);
  const special = new Set(options.specialValues);
  const specialStats = new Map<number, { count: number; bads: number }>();
  const missing = { count: 0, bads: 0 };
  const regular: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const bad = target[i] as number;
    if (Number.isNaN(v)) {
      missing.count++;
      missing.bads += bad;
    } else if (special.has(v)) {
      const s = specialStats.get(v) ?? { count: 0, bads: 0 };
      s.count++;
      s.bads += bad;
      specialStats.set(v, s);
    } else regular.push(i);
  }
  regular.sort((a, b) => (values[a] as number) - (values[b] as number));
  const groups = prebin(regular, values, target, options.maxPrebins);
  const totalBads = sum(target);
  const totalGoods = target.length - totalBads;
  const { groups: merged, trend } = enforceTrend(groups, options, regular.length);
  const bins: BinStats[] = [];
  merged.forEach((g, k) => {
    const bin: Bin = {
      kind: "range",
      lower: k === 0 ? Number.NEGATIVE_INFINITY : g.lower,
      upper: k === merged.length - 1 ? Number.POSITIVE_INFINITY : (merged[k + 1] as Group).lower,
    };
    bins.push({ bin, count: g.count, bads: g.bads, ...woeAndIv(g.count, g.bads, totalGoods, totalBads) });
  });
  for (const [value, s] of [...specialStats].sort((a, b) => a[0] - b[0])) {
    bins.push({ bin: { kind: "special", value }, ...s, ...woeAndIv(s.count, s.bads, totalGoods, totalBads) });
  }
  // Missing always has a bin, so scoring an unseen missing value is defined (neutral when empty).
  bins.push({
    bin: { kind: "missing" },
    ...missing,
    ...(missing.count > 0 ? woeAndIv(missing.count, missing.bads, totalGoods, totalBads) : { woe: 0, iv: 0 }),
  });
  return { feature, type: "numeric", trend, bins, iv: bins.reduce((t, b) => t + b.iv, 0) };
}

/** Bins one categorical feature: a bin per category, small ones pooled with the closest bad rate. */
export function binCategorical(
  feature: string,
  values: readonly string[],
  target: Uint8Array,
  options: BinningOptions = DEFAULT_BINNING,
): FeatureBinning {
  assertAligned(values.length, target.length);
  const stats = new Map<string, { count: number; bads: number }>();
  values.forEach((v, i) => {
    const s = stats.get(v) ?? { count: 0, bads: 0 };
    s.count++;
    s.bads += target[i] as number;
    stats.set(v, s);
  });
  let groups = [...stats].map(([v, s]) => ({ values: [v], ...s }));
  groups.sort((a, b) => a.bads / a.count - b.bads / b.count);
  const minCount = Math.max(1, options.minBinRows, Math.ceil(options.minBinShare * values.length));
  while (groups.length > 1) {
    const small = groups.findIndex((g) => g.count < minCount);
    if (small < 0) break;
    // Pool with the neighbour (in bad-rate order) whose rate is closest.
    const rate = (g: { count: number; bads: number }) => g.bads / g.count;
    const left = groups[small - 1];
    const right = groups[small + 1];
    const current = groups[small] as (typeof groups)[number];
    const other =
      left === undefined
        ? small + 1
        : right === undefined
          ? small - 1
          : Math.abs(rate(left) - rate(current)) <= Math.abs(rate(right) - rate(current))
            ? small - 1
            : small + 1;
    const a = Math.min(small, other);
    const x = groups[a] as (typeof groups)[number];
    const y = groups[a + 1] as (typeof groups)[number];
    groups = [
      ...groups.slice(0, a),
      { values: [...x.values, ...y.values], count: x.count + y.count, bads: x.bads + y.bads },
      ...groups.slice(a + 2),
    ];
  }
  const totalBads = sum(target);
  const totalGoods = target.length - totalBads;
  const bins: BinStats[] = groups.map((g) => ({
    bin: { kind: "categories", values: [...g.values].sort() },
    count: g.count,
    bads: g.bads,
    ...woeAndIv(g.count, g.bads, totalGoods, totalBads),
  }));
  return { feature, type: "categorical", trend: null, bins, iv: bins.reduce((t, b) => t + b.iv, 0) };
}

/** Quantile pre-bins over sorted row indexes; equal values never straddle two bins. */
function prebin(sorted: number[], values: Float64Array, target: Uint8Array, maxPrebins: number): Group[] {
  const groups: Group[] = [];
  const n = sorted.length;
  let start = 0;
  for (let k = 1; k <= maxPrebins && start < n; k++) {
    let end = k === maxPrebins ? n : Math.max(start + 1, Math.round((k * n) / maxPrebins));
    // Extend to the end of a run of equal values.
    while (end < n && values[sorted[end] as number] === values[sorted[end - 1] as number]) end++;
    if (end <= start) continue;
    let bads = 0;
    for (let i = start; i < end; i++) bads += target[sorted[i] as number] as number;
    groups.push({
      lower: values[sorted[start] as number] as number,
      upper: values[sorted[end - 1] as number] as number,
      count: end - start,
      bads,
    });
    start = end;
  }
  return groups;
}

function enforceTrend(
  groups: Group[],
  options: BinningOptions,
  regularCount: number,
): { groups: Group[]; trend: Exclude<Trend, "auto"> | null } {
  if (groups.length <= 1) return { groups, trend: null };
  const minCount = Math.max(1, options.minBinRows, Math.ceil(options.minBinShare * regularCount));
  const candidates: Exclude<Trend, "auto">[] =
    options.trend === "auto" ? ["ascending", "descending", "peak", "valley"] : [options.trend];
  let best: { groups: Group[]; trend: Exclude<Trend, "auto">; score: number } | null = null;
  for (const trend of candidates) {
    for (const merged of shapes(groups, trend)) {
      const sized = enforceMinSize(merged, minCount);
      if (!followsTrend(sized, trend)) continue;
      const score = separation(sized);
      if (best === null || score > best.score) best = { groups: sized, trend, score };
    }
  }
  return best === null ? { groups: [mergeAll(groups)], trend: null } : best;
}

/** Candidate groupings for a trend: monotonic has one; peak and valley try every turning point. */
function* shapes(groups: Group[], trend: Exclude<Trend, "auto">): Generator<Group[]> {
  if (trend === "ascending" || trend === "descending") {
    yield pava(groups, trend === "ascending");
    return;
  }
  for (let turn = 1; turn < groups.length - 1; turn++) {
    const up = trend === "peak";
    yield [...pava(groups.slice(0, turn + 1), up), ...pava(groups.slice(turn + 1), !up)];
  }
}

/** Pool-adjacent-violators on bad rates, weighted by counts. */
function pava(groups: Group[], ascending: boolean): Group[] {
  const stack: Group[] = [];
  for (const g of groups) {
    stack.push({ ...g });
    while (stack.length > 1) {
      const b = stack[stack.length - 1] as Group;
      const a = stack[stack.length - 2] as Group;
      const violates = ascending ? rate(a) >= rate(b) : rate(a) <= rate(b);
      if (!violates) break;
      stack.splice(stack.length - 2, 2, merge(a, b));
    }
  }
  return stack;
}

function enforceMinSize(groups: Group[], minCount: number): Group[] {
  let out = groups.map((g) => ({ ...g }));
  while (out.length > 1) {
    let smallest = -1;
    for (let i = 0; i < out.length; i++) {
      const g = out[i] as Group;
      if (g.count < minCount && (smallest < 0 || g.count < (out[smallest] as Group).count)) smallest = i;
    }
    if (smallest < 0) break;
    const left = out[smallest - 1];
    const right = out[smallest + 1];
    const self = out[smallest] as Group;
    const withLeft =
      right === undefined ||
      (left !== undefined && Math.abs(rate(left) - rate(self)) <= Math.abs(rate(right) - rate(self)));
    const a = withLeft ? smallest - 1 : smallest;
    out = [...out.slice(0, a), merge(out[a] as Group, out[a + 1] as Group), ...out.slice(a + 2)];
  }
  return out;
}

function followsTrend(groups: Group[], trend: Exclude<Trend, "auto">): boolean {
  const rates = groups.map(rate);
  const up = (i: number) => (rates[i + 1] as number) > (rates[i] as number);
  const steps = rates.length - 1;
  if (trend === "ascending") return Array.from({ length: steps }, (_, i) => up(i)).every(Boolean);
  if (trend === "descending") return Array.from({ length: steps }, (_, i) => !up(i)).every(Boolean);
  let i = 0;
  const first = trend === "peak";
  while (i < steps && up(i) === first) i++;
  while (i < steps && up(i) !== first) i++;
  return i === steps;
}

/** Information value of a grouping, the quantity binning maximises. */
function separation(groups: Group[]): number {
  const count = groups.reduce((t, g) => t + g.count, 0);
  const bads = groups.reduce((t, g) => t + g.bads, 0);
  return groups.reduce((t, g) => t + woeAndIv(g.count, g.bads, count - bads, bads).iv, 0);
}

/** Smoothed odds of bad: WoE falls strictly as it rises, so a trend in it is a trend in WoE. */
const rate = (g: Group) => (g.bads + SMOOTHING) / (g.count - g.bads + SMOOTHING);
const merge = (a: Group, b: Group): Group => ({
  lower: Math.min(a.lower, b.lower),
  upper: Math.max(a.upper, b.upper),
  count: a.count + b.count,
  bads: a.bads + b.bads,
});
const mergeAll = (groups: Group[]) => groups.reduce(merge);

function sum(target: Uint8Array): number {
  let s = 0;
  for (const t of target) s += t;
  return s;
}

function assertAligned(values: number, target: number): void {
  if (values !== target) throw new RangeError(`values (${values}) and target (${target}) differ in length`);
  if (values === 0) throw new RangeError("cannot bin an empty feature");
}

/** Which bin of a fitted binning a value falls in (the scorer compiles this to a table). */
export function binIndexOf(binning: FeatureBinning, value: number | string): number {
  const { bins } = binning;
  if (typeof value === "string") {
    const i = bins.findIndex((b) => b.bin.kind === "categories" && b.bin.values.includes(value));
    return i >= 0 ? i : -1;
  }
  if (Number.isNaN(value)) return bins.findIndex((b) => b.bin.kind === "missing");
  const special = bins.findIndex((b) => b.bin.kind === "special" && b.bin.value === value);
  if (special >= 0) return special;
  return bins.findIndex((b) => b.bin.kind === "range" && value >= b.bin.lower && value < b.bin.upper);
}
