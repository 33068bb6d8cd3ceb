/** Time is injected as epoch milliseconds; the engine never reads a clock. */
export type EpochMs = number;

export const MS_PER_DAY = 86_400_000;

export function daysBetween(from: EpochMs, to: EpochMs): number {
  return Math.floor((to - from) / MS_PER_DAY);
}

export function addDays(at: EpochMs, days: number): EpochMs {
  return at + days * MS_PER_DAY;
}

export function isoDate(at: EpochMs): string {
  return new Date(at).toISOString().slice(0, 10);
}
