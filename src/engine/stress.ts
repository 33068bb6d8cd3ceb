import type { DecisionInput } from "./decide.ts";
import { compileModel, type PointsModel, type Scorer } from "./model.ts";
import type { Relief } from "./pricing/relief.ts";

/** The most a stressed probability of default may reach, so the score stays finite. */
const PD_CEILING = 0.999;

/**
 * A scorer for a stress scenario: the model's probability of default times `multiplier` (capped),
 * and the score that probability maps to on the model's own scale (points to double the odds), so
 * the policy's tiers and score conditions see the stressed borrower. Points per feature stay as
 * they were: the stress moves everyone's odds by the same factor, not any one characteristic.
 */
export function stressedScorer(model: PointsModel, multiplier: number): Scorer {
  if (!(multiplier > 0)) throw new RangeError("the PD multiplier must be positive");
  const base = compileModel(model);
  const factor = model.scaling.pdo / Math.LN2;
  const offset = model.scaling.score - factor * Math.log(model.scaling.odds);
  return (features) => {
    const scored = base(features);
    const pd = Math.min(PD_CEILING, scored.pd * multiplier);
    return { ...scored, pd, score: Math.round(offset + factor * Math.log((1 - pd) / pd)) };
  };
}

/**
 * What one relief leaves of this line's monthly payment, as a share. A payment holiday pauses it;
 * a term extension spreads what is owed over `remainingMonths + months` instead of
 * `remainingMonths` (equal principal, interest ignored). A rate cut's effect depends on each
 * drawdown's rate and is not modelled here.
 */
export function paymentShareAfter(relief: Relief, remainingMonths: number): number {
  switch (relief.kind) {
    case "payment_holiday":
      return 0;
    case "term_extension":
      return remainingMonths / (remainingMonths + relief.months);
    case "rate_reduction":
      throw new RangeError("a rate reduction's effect on the payment is not modelled in stress tests");
  }
}

/**
 * The decision input as it would read with this line's monthly payment scaled by `paymentShare`:
 * obligations and debt-to-income fall by what the relief takes off. Nothing else changes: days past
 * due already run stay, and so does the balance.
 */
export function relievedInput(
  input: DecisionInput,
  linePayment: number,
  paymentShare: number,
): DecisionInput {
  const obligations = input.affordability.obligations - Math.round(linePayment * (1 - paymentShare));
  const income = input.affordability.income;
  return {
    ...input,
    features: {
      ...input.features,
      debtToIncome: income > 0 ? Math.min(obligations / income, 10) : obligations > 0 ? 10 : 0,
    },
    affordability: { ...input.affordability, obligations },
  };
}

/** Cuts that answer misconduct rather than credit risk stand whatever the response: no relief. */
export function misconduct(input: DecisionInput): boolean {
  const f = input.features;
  return f.fraudFlag > 0 || f.prohibitedUse90d > 0 || f.loginAnomalies30d >= 5;
}
