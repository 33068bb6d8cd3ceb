/** Discrimination and stability measures for scores. `bad` is 1 for the event. Higher score = better. */

/** Area under the ROC curve that the score ranks goods above bads (ties count half). */
export function auc(scores: ArrayLike<number>, bad: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let rankSumGood = 0;
  let goods = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (bad[order[k] as number] === 0) {
        rankSumGood += midRank;
        goods++;
      }
    }
    i = j + 1;
  }
  const bads = n - goods;
  if (goods === 0 || bads === 0) throw new RangeError("AUC needs both goods and bads");
  return (rankSumGood - (goods * (goods + 1)) / 2) / (goods * bads);
}

/** Largest gap between the cumulative shares of bads and goods over the score. */
export function ks(scores: ArrayLike<number>, bad: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let bads = 0;
  for (let i = 0; i < n; i++) bads += bad[i] as number;
  const goods = n - bads;
  let cumBad = 0;
  let cumGood = 0;
  let best = 0;
  for (let i = 0; i < n; i++) {
    const k = order[i] as number;
    if (bad[k] === 1) cumBad++;
    else cumGood++;
    const next = order[i + 1];
    if (next !== undefined && scores[next] === scores[k]) continue;
    best = Math.max(best, Math.abs(cumBad / bads - cumGood / goods));
  }
  return best;
}

export const gini = (areaUnderCurve: number) => 2 * areaUnderCurve - 1;

export type StabilityBand = "stable" | "watch" | "shifted";

/** Population stability index between two distributions over the same bins (counts). */
export function psi(
  expected: readonly number[],
  actual: readonly number[],
): { psi: number; band: StabilityBand } {
  if (expected.length !== actual.length) throw new RangeError("distributions must have the same bins");
  const e = expected.reduce((a, b) => a + b, 0);
  const a = actual.reduce((x, y) => x + y, 0);
  let value = 0;
  for (let i = 0; i < expected.length; i++) {
    // A tiny floor keeps an empty bin from making the index infinite.
    const pe = Math.max((expected[i] as number) / e, 1e-4);
    const pa = Math.max((actual[i] as number) / a, 1e-4);
    value += (pa - pe) * Math.log(pa / pe);
  }
  return { psi: value, band: value < 0.1 ? "stable" : value < 0.25 ? "watch" : "shifted" };
}
