import type { Fen } from "../money.ts";
import { addDays, type EpochMs } from "../time.ts";

/** The fees a product charges, and the rules that hold them back. */
export interface FeeSchedule {
  /** Charged when the balance is above the limit, at most once per `everyDays`. */
  overLimitFee: Fen;
  everyDays: number;
  /** No fee that results from a limit cut within this many days of the cut's notice. */
  cutGraceDays: number;
}

export const DEFAULT_FEES: FeeSchedule = { overLimitFee: 5_000, everyDays: 30, cutGraceDays: 45 };

export type FeeCheck =
  | { charge: true; amount: Fen }
  | { charge: false; reason: "within_limit" | "cut_grace" | "charged_recently"; notBefore: EpochMs | null };

/**
 * Whether an over-limit fee is due now. Headroom refuses drawdowns beyond the available credit,
 * so a balance above the limit comes from a cut: the fee waits `cutGraceDays` after the notice of
 * the latest cut (`cutNoticedAt`), then is charged at most once per `everyDays`.
 */
export function overLimitFee(
  line: { balance: Fen; limit: Fen },
  cutNoticedAt: EpochMs | null,
  lastChargedAt: EpochMs | null,
  now: EpochMs,
  fees: FeeSchedule = DEFAULT_FEES,
): FeeCheck {
  if (line.balance <= line.limit) return { charge: false, reason: "within_limit", notBefore: null };
  if (cutNoticedAt !== null) {
    const notBefore = addDays(cutNoticedAt, fees.cutGraceDays);
    if (now < notBefore) return { charge: false, reason: "cut_grace", notBefore };
  }
  if (lastChargedAt !== null) {
    const notBefore = addDays(lastChargedAt, fees.everyDays);
    if (now < notBefore) return { charge: false, reason: "charged_recently", notBefore };
  }
  return { charge: true, amount: fees.overLimitFee };
}
