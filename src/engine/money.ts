/** Money is integer minor units (fen). Every amount crossing a boundary is checked here. */
export type Fen = number;

export const FEN_PER_YUAN = 100;

export function assertFen(value: number, what: string): Fen {
  if (!Number.isSafeInteger(value))
    throw new RangeError(`${what} must be an integer number of fen, got ${value}`);
  return value;
}

export function yuan(amount: number): Fen {
  return Math.round(amount * FEN_PER_YUAN);
}

/** Rounds down to whole yuan: limits are quoted to borrowers in yuan, never fractions of one. */
export function floorToYuan(fen: Fen): Fen {
  return Math.floor(fen / FEN_PER_YUAN) * FEN_PER_YUAN;
}

export function formatYuan(fen: Fen): string {
  return (fen / FEN_PER_YUAN).toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 2 });
}
