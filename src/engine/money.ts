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

/** "12,345.5" for 1,234,550 fen: grouped yuan, up to two decimals, no trailing zeros. */
export function formatYuan(fen: Fen): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.round(fen));
  const whole = String(Math.floor(abs / FEN_PER_YUAN)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = abs % FEN_PER_YUAN;
  if (cents === 0) return `${sign}${whole}`;
  const decimals = cents % 10 === 0 ? String(cents / 10) : String(cents).padStart(2, "0");
  return `${sign}${whole}.${decimals}`;
}
