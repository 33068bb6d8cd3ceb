import { decide } from "../engine/decide.ts";
import type { Relief } from "../engine/pricing/relief.ts";
import { misconduct, paymentShareAfter, relievedInput, stressedScorer } from "../engine/stress.ts";
import type { Store } from "../store/connect.ts";
import { type ClassMeasureSettings, classMeasuresIn } from "./classMeasures.ts";
import type { ActiveEngine } from "./engineConfig.ts";
import { decisionInput } from "./lineBook.ts";
import { bookLines } from "./lineLoader.ts";
import { ADVERSE, exposureAfter } from "./simulation.ts";

/** Answered offers needed before the observed acceptance rate is used instead of the assumed one. */
export const MIN_ANSWERED_OFFERS = 20;
export const ASSUMED_ACCEPTANCE = 0.5;
export const ASSUMED_REMAINING_MONTHS = 12;

export interface StressRequest {
  pdMultiplier: number;
  region?: string;
  relief: Relief;
  /** Share of borrowers offered relief who take it; default: observed on past offers, else assumed. */
  acceptance?: number;
  asOf: number;
}

/** One response's outcome over a set of lines (fen, and modelled borrower counts). */
export interface StressOutcome {
  /** Sum of stressed PD times exposure at default (LGD taken as 100%). */
  expectedLoss: number;
  /** Exposure at default: limit for an active line (or the balance if above it), balance otherwise. */
  exposure: number;
  /** Expected number of borrowers whose line is cut. */
  borrowersCut: number;
  /** Among the borrowers the stress would cut: the expected number who do not default (1 - PD each). */
  keptCurrent: number;
}

export interface StressGroup {
  accounts: number;
  /** Lines the policy cuts under stress for credit reasons: the ones the two responses treat apart. */
  stressCuts: number;
  cutLines: StressOutcome;
  offerRelief: StressOutcome;
}

export interface StressReport {
  asOf: number;
  policy: string;
  model: string;
  pdMultiplier: number;
  region: string | null;
  relief: Relief;
  acceptance: { rate: number; source: "given" | "observed" | "assumed"; answeredOffers: number };
  /** The class-wide measures in force on the as-of date, which both responses decide under, as live decisions do. */
  measures: ClassMeasureSettings;
  /** Expected loss and exposure of the same lines without stress, under the policy's own decisions. */
  unstressed: { expectedLoss: number; exposure: number };
  total: StressGroup;
  byRegion: Record<string, StressGroup>;
  /** What the model takes for granted; printed with every report. */
  assumptions: string[];
}

const emptyOutcome = (): StressOutcome => ({ expectedLoss: 0, exposure: 0, borrowersCut: 0, keptCurrent: 0 });
const emptyGroup = (): StressGroup => ({
  accounts: 0,
  stressCuts: 0,
  cutLines: emptyOutcome(),
  offerRelief: emptyOutcome(),
});

/** The acceptance rate of past hardship offers, if enough were answered to go by. */
async function observedAcceptance(store: Store): Promise<{ accepted: number; answered: number }> {
  const rows = await store.db
    .selectFrom("hardship_offers")
    .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
    .where("status", "in", ["accepted", "declined"])
    .groupBy("status")
    .execute();
  const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { accepted: count("accepted"), answered: count("accepted") + count("declined") };
}

/**
 * A stress scenario (every borrower's PD times a multiplier, optionally in one region) and two
 * answers to it: A, cut lines as the policy in force decides under stress; B, offer the same
 * borrowers relief instead, which a share of them accept (the rest are cut as in A). Read only.
 */
export async function compareStressResponses(
  store: Store,
  engine: ActiveEngine,
  request: StressRequest,
): Promise<StressReport> {
  const share = paymentShareAfter(request.relief, ASSUMED_REMAINING_MONTHS);
  const observed = await observedAcceptance(store);
  const acceptance =
    request.acceptance !== undefined
      ? { rate: request.acceptance, source: "given" as const }
      : observed.answered >= MIN_ANSWERED_OFFERS
        ? { rate: observed.accepted / observed.answered, source: "observed" as const }
        : { rate: ASSUMED_ACCEPTANCE, source: "assumed" as const };
  const a = acceptance.rate;
  const stressed = { policy: engine.policy, scorer: stressedScorer(engine.model, request.pdMultiplier) };
  const measures = await classMeasuresIn(store.db, request.asOf);
  const report: StressReport = {
    asOf: request.asOf,
    policy: engine.policy.version,
    model: engine.model.version,
    pdMultiplier: request.pdMultiplier,
    region: request.region ?? null,
    relief: request.relief,
    acceptance: { ...acceptance, answeredOffers: observed.answered },
    measures,
    unstressed: { expectedLoss: 0, exposure: 0 },
    total: emptyGroup(),
    byRegion: {},
    assumptions: [
      `every borrower's probability of default is the model's times ${request.pdMultiplier} (capped at 0.999); scores follow on the model's scale, so tiers and score rules see the stress`,
      "expected loss is PD x exposure at default with no recovery (LGD 100%); PD is the model's default horizon, not a fixed year",
      "exposure at default is the limit of an active line (or its balance if higher) and the balance of a frozen or closed one",
      `relief changes only this line's monthly payment (${Math.round(share * 100)}% of it remains; term extensions assume ${ASSUMED_REMAINING_MONTHS} months left, equal principal, interest ignored), hence obligations and debt-to-income; the model rescores the borrower on that, with its own (not necessarily monotone) points for debt-to-income`,
      "days past due already run, the balance and every other feature stay as they are; the cut's own effect on the borrower's behaviour is not modelled",
      `${Math.round(a * 100)}% of borrowers offered relief accept it (${acceptance.source}${acceptance.source === "observed" ? ` on ${observed.answered} answered offers` : ""}); those who decline are cut as in A`,
      "cuts for fraud, prohibited use or account takeover stand in both responses: relief is not offered for misconduct",
      `both responses decide under the class-wide measures in force on ${new Date(request.asOf).toISOString().slice(0, 10)} (region factors, portfolio stress multiplier); a cut only a measure makes stands in both, since relief does not lift a measure`,
    ],
  };
  for await (const line of bookLines(store)) {
    const row = line.row;
    if (row.status === "CLOSED" || (request.region !== undefined && row.region !== request.region)) continue;
    const input = decisionInput(line, { kind: "analyst", actor: "stress" }, request.asOf, measures);
    const calm = decide(input, engine, request.asOf);
    const cut = decide(input, stressed, request.asOf);
    report.byRegion[row.region] ??= emptyGroup();
    const group = report.byRegion[row.region] as StressGroup;
    report.unstressed.expectedLoss += calm.pd * exposureAfter(calm, row.balance);
    report.unstressed.exposure += exposureAfter(calm, row.balance);
    const exposureA = exposureAfter(cut, row.balance);
    const isCut = ADVERSE.has(cut.action);
    const measureOnly = cut.classWide !== undefined && !ADVERSE.has(cut.classWide.withoutMeasures.action);
    const relievable = isCut && !misconduct(input) && !measureOnly;
    // Response B for this line, as an expectation over accepting (share a) and declining.
    let b = { loss: cut.pd * exposureA, exposure: exposureA, cut: isCut ? 1 : 0, current: 1 - cut.pd };
    if (relievable) {
      const relievedPd = stressed.scorer(relievedInput(input, line.state.lastDueAmount, share).features).pd;
      const kept = exposureAfter({ toStatus: input.line.status, toLimit: input.line.limit }, row.balance);
      b = {
        loss: a * relievedPd * kept + (1 - a) * cut.pd * exposureA,
        exposure: a * kept + (1 - a) * exposureA,
        cut: 1 - a,
        current: a * (1 - relievedPd) + (1 - a) * (1 - cut.pd),
      };
    }
    for (const g of [group, report.total]) {
      g.accounts++;
      g.cutLines.expectedLoss += cut.pd * exposureA;
      g.cutLines.exposure += exposureA;
      g.cutLines.borrowersCut += isCut ? 1 : 0;
      g.offerRelief.expectedLoss += b.loss;
      g.offerRelief.exposure += b.exposure;
      g.offerRelief.borrowersCut += b.cut;
      if (relievable) {
        g.stressCuts++;
        g.cutLines.keptCurrent += 1 - cut.pd;
        g.offerRelief.keptCurrent += b.current;
      }
    }
  }
  for (const g of [report.total, ...Object.values(report.byRegion)]) {
    for (const o of [g.cutLines, g.offerRelief]) {
      o.expectedLoss = Math.round(o.expectedLoss);
      o.exposure = Math.round(o.exposure);
      o.borrowersCut = Math.round(o.borrowersCut * 10) / 10;
      o.keptCurrent = Math.round(o.keptCurrent * 10) / 10;
    }
  }
  report.unstressed.expectedLoss = Math.round(report.unstressed.expectedLoss);
  return report;
}
