import type { Random } from "../random.ts";

/** Stratified split: the same share of bads on both sides. Indexes are returned in random order. */
export function stratifiedSplit(
  target: Uint8Array,
  testShare: number,
  random: Random,
): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (const cls of [0, 1]) {
    const members = shuffled(
      Array.from(target.keys()).filter((i) => target[i] === cls),
      random,
    );
    const cut = Math.round(members.length * testShare);
    test.push(...members.slice(0, cut));
    train.push(...members.slice(cut));
  }
  return { train: shuffled(train, random), test: shuffled(test, random) };
}

/** Stratified k folds: each row in exactly one fold. */
export function stratifiedFolds(target: Uint8Array, folds: number, random: Random): number[][] {
  const out: number[][] = Array.from({ length: folds }, () => []);
  for (const cls of [0, 1]) {
    const members = shuffled(
      Array.from(target.keys()).filter((i) => target[i] === cls),
      random,
    );
    members.forEach((row, k) => {
      (out[k % folds] as number[]).push(row);
    });
  }
  return out;
}

function shuffled<T>(items: T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
