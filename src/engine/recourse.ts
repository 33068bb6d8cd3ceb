import { type Decision, type DecisionContext, type DecisionInput, decide } from "./decide.ts";
import type { CreditEvent } from "./events.ts";
import {
  applyEvent,
  FEATURES,
  type FeatureName,
  type FeatureState,
  GRACE_MS,
  incomeForAffordability,
  monthlyObligations,
  owedAt,
  readFeatures,
  setLender,
} from "./features.ts";
import type { PointsModel } from "./model.ts";
import { FEN_PER_YUAN, type Fen } from "./money.ts";
import { type ComparisonOp, type Condition, compare, type Policy, type PolicyRule } from "./policy.ts";
import { phraseRecourse, phraseUnavailable } from "./recourseText.ts";
import { type EpochMs, MS_PER_DAY } from "./time.ts";

/**
 * Recourse: the smallest set of changes a borrower can make that turns an adverse decision around,
 * with the date by which it works. Exact for points models and structured policies: candidate
 * changes are read off the conditions and score bands that held against the borrower, and every
 * candidate is checked by running decide() on the projected inputs, so a recourse is only ever
 * offered when the engine itself would keep its promise.
 */

/** Counts that fall by themselves as old events leave their window. */
const DECAYING = {
  inquiries30d: { list: "inquiries", days: 30 },
  inquiries90d: { list: "inquiries", days: 90 },
  newLenders90d: { list: "lenderOpenings", days: 90 },
  loginAnomalies30d: { list: "loginAnomalies", days: 30 },
  prohibitedUse90d: { list: "prohibitedUses", days: 90 },
  overdueCount12m: { list: "lateDueDates", days: 365 },
} as const satisfies Partial<Record<FeatureName, { list: keyof FeatureState; days: number }>>;
type DecayingFeature = keyof typeof DECAYING;

/** What the borrower is asked to do; every field narrows the projected future. */
export interface RecoursePlan {
  /** Make no new applications (or borrowing) until these counts have fallen to at most the value. */
  atMost: Partial<Record<DecayingFeature, number>>;
  repayOverdue: boolean;
  balanceAtMost: Fen | null;
  closeLenders: string[];
  incomeAtLeast: Fen | null;
  monthsOnBook: number | null;
}

export type RecourseStep =
  | { kind: "wait"; feature: DecayingFeature; atMost: number; by: EpochMs }
  | { kind: "repay_overdue"; amount: Fen }
  | { kind: "reduce_balance"; amount: Fen; balanceAtMost: Fen }
  | { kind: "close_loans"; lenders: string[]; monthlyPayment: Fen }
  | { kind: "prove_income"; monthlyIncomeAtLeast: Fen }
  | { kind: "tenure"; monthsOnBook: number; by: EpochMs };

/** keep: no adverse action on the line as it was; reopen: a frozen line opens again. */
export type RecourseGoal = "keep" | "reopen";

export interface Recourse {
  goal: RecourseGoal;
  available: boolean;
  plan: RecoursePlan | null;
  steps: RecourseStep[];
  /** The date by which the steps take the borrower to the promised outcome. */
  by: EpochMs;
  outcome: { action: Decision["action"]; limit: Fen; status: Decision["toStatus"] } | null;
  en: string;
  zh: string;
}

export interface RecourseContext extends DecisionContext {
  /** The points model behind the scorer: its bands say which changes earn points. */
  model: PointsModel;
}

/** The search gives up after this many engine runs; the demo portfolio needs at most a few dozen. */
const NODE_BUDGET = 200;

const EMPTY_PLAN: RecoursePlan = {
  atMost: {},
  repayOverdue: false,
  balanceAtMost: null,
  closeLenders: [],
  incomeAtLeast: null,
  monthsOnBook: null,
};

function ceilToYuan(fen: number): Fen {
  return Math.ceil(fen / FEN_PER_YUAN) * FEN_PER_YUAN;
}

function startOfNextDay(at: EpochMs): EpochMs {
  return (Math.floor(at / MS_PER_DAY) + 1) * MS_PER_DAY;
}

function cloneState(s: FeatureState): FeatureState {
  const lenders: FeatureState["lenders"] = {};
  for (const [k, v] of Object.entries(s.lenders)) setLender(lenders, k, { ...v });
  return {
    ...s,
    openDues: s.openDues.map((d) => ({ ...d })),
    lateDueDates: [...s.lateDueDates],
    lenders,
  };
}

function isOverdue(state: FeatureState, due: { dueAt: EpochMs }, now: EpochMs): boolean {
  return owedAt(state, due.dueAt) + GRACE_MS < now;
}

/** Overdue amount (fen) at `now`: every open due past its grace day (after any payment holiday). */
export function overdueAmount(state: FeatureState, now: EpochMs): Fen {
  let sum = 0;
  for (const d of state.openDues) if (isOverdue(state, d, now)) sum += d.remaining;
  return sum;
}

/** When a window count falls to `atMost` with no new events: the day after the right one ages out. */
export function whenAtMost(list: readonly EpochMs[], days: number, atMost: number, now: EpochMs): EpochMs {
  const window = days * MS_PER_DAY;
  const inWindow = list.filter((t) => t >= now - window && t <= now).sort((a, b) => a - b);
  const excess = inWindow.length - atMost;
  if (excess <= 0) return now;
  return startOfNextDay((inWindow[excess - 1] as number) + window);
}

/** The events a plan stands for, so projecting it folds them exactly as ingest would. */
export function planEvents(
  plan: RecoursePlan,
  state: FeatureState,
  accountId: string,
  now: EpochMs,
): { event: CreditEvent; at: EpochMs }[] {
  const events: { event: CreditEvent; at: EpochMs }[] = [];
  if (!plan.repayOverdue && plan.closeLenders.length === 0 && plan.incomeAtLeast === null) return events;
  const occurredAt = new Date(now).toISOString();
  // Literals, not spreads of a shared base: V8 gave every spread copy a fresh hidden class.
  if (plan.repayOverdue)
    for (const due of state.openDues) {
      if (!isOverdue(state, due, now)) continue;
      events.push({
        at: now,
        event: {
          accountId,
          occurredAt,
          id: `recourse-repay-${due.id}`,
          type: "repayment_made",
          data: { amount: due.remaining, dueId: due.id },
        },
      });
    }
  for (const lender of plan.closeLenders)
    events.push({
      at: now,
      event: {
        accountId,
        occurredAt,
        id: `recourse-close-${lender}`,
        type: "external_loan_closed",
        data: { lender },
      },
    });
  if (plan.incomeAtLeast !== null)
    events.push({
      at: now,
      event: {
        accountId,
        occurredAt,
        id: "recourse-income",
        type: "income_verified",
        data: { monthlyIncome: plan.incomeAtLeast, source: "borrower_proof" },
      },
    });
  return events;
}

/** The date the plan's waiting ends: every count down to its bound, tenure reached. */
function planDate(plan: RecoursePlan, state: FeatureState, now: EpochMs): EpochMs {
  let at = now;
  for (const [feature, bound] of Object.entries(plan.atMost) as [DecayingFeature, number][]) {
    const spec = DECAYING[feature];
    let list = state[spec.list] as EpochMs[];
    // Overdue dues repaid now become late dates at their due dates.
    if (feature === "overdueCount12m")
      list = [...list, ...state.openDues.filter((d) => isOverdue(state, d, now)).map((d) => d.dueAt)];
    at = Math.max(at, whenAtMost(list, spec.days, bound, now));
  }
  if (plan.monthsOnBook !== null)
    at = Math.max(at, startOfNextDay(state.openedAt + plan.monthsOnBook * 30 * MS_PER_DAY - 1));
  return at;
}

export interface Projection {
  input: DecisionInput;
  at: EpochMs;
  /** What the borrower repays now to bring the balance to the plan's bound (whole yuan; 0 if none). */
  balanceRepayment: Fen;
}

/**
 * The decision input on the plan's date if the borrower follows it: the plan's repayments, closed
 * loans and proven income folded in now, every instalment falling due meanwhile paid on time, no
 * new applications, and every window read on that date.
 */
export function projectPlan(
  plan: RecoursePlan,
  base: DecisionInput,
  state: FeatureState,
  now: EpochMs,
  /** The plan's date, when the caller has already worked it out (the search's cost has it). */
  at: EpochMs = planDate(plan, state, now),
): Projection {
  const s = cloneState(state);
  let balance = base.line.balance;
  for (const { event, at: when } of planEvents(plan, s, base.accountId, now)) {
    applyEvent(s, event, when);
    if (event.type === "repayment_made") balance = Math.max(0, balance - event.data.amount);
  }
  for (const due of [...s.openDues]) {
    const owed = owedAt(s, due.dueAt);
    if (owed > at || isOverdue(s, due, now)) continue;
    const when = Math.max(owed, now);
    const amount = due.remaining;
    applyEvent(
      s,
      {
        id: `recourse-on-time-${due.id}`,
        accountId: base.accountId,
        occurredAt: new Date(when).toISOString(),
        type: "repayment_made",
        data: { amount, dueId: due.id },
      },
      when,
    );
    balance = Math.max(0, balance - amount);
  }
  // The borrower is told an amount, not a balance: the instalments paid meanwhile count towards the
  // bound, and the projection ends where repaying that amount ends. Paying the bound down exactly
  // would promise an outcome that overpaying (a lower utilisation band can score worse) breaks.
  const balanceRepayment =
    plan.balanceAtMost === null ? 0 : ceilToYuan(Math.max(0, balance - plan.balanceAtMost));
  balance = Math.max(0, balance - balanceRepayment);
  const income = incomeForAffordability(s);
  return {
    at,
    balanceRepayment,
    input: {
      ...base,
      line: { ...base.line, balance },
      features: readFeatures(s, { limit: base.line.limit, balance }, at),
      affordability: { income: income.income, verified: income.verified, obligations: monthlyObligations(s) },
    },
  };
}

function minOrNull(x: number | null, y: number | null | undefined): number | null {
  return y === undefined || y === null ? x : x === null ? y : Math.min(x, y);
}

function maxOrNull(x: number | null, y: number | null | undefined): number | null {
  return y === undefined || y === null ? x : x === null ? y : Math.max(x, y);
}

/**
 * A plan with a patch's changes added. Plans are never changed once made, so what the patch leaves
 * alone (the waits, the lenders, already sorted and distinct) is shared with `a`, not copied.
 */
function mergePlans(a: RecoursePlan, b: Partial<RecoursePlan>): RecoursePlan {
  let atMost = a.atMost;
  if (b.atMost !== undefined) {
    atMost = { ...a.atMost };
    for (const [f, v] of Object.entries(b.atMost) as [DecayingFeature, number][])
      atMost[f] = Math.min(atMost[f] ?? v, v);
  }
  const closeLenders =
    b.closeLenders === undefined || b.closeLenders.length === 0
      ? a.closeLenders
      : [...new Set([...a.closeLenders, ...b.closeLenders])].sort();
  return {
    atMost,
    repayOverdue: a.repayOverdue || b.repayOverdue === true,
    balanceAtMost: minOrNull(a.balanceAtMost, b.balanceAtMost),
    closeLenders,
    incomeAtLeast: maxOrNull(a.incomeAtLeast, b.incomeAtLeast),
    monthsOnBook: maxOrNull(a.monthsOnBook, b.monthsOnBook),
  };
}

function stepCount(p: RecoursePlan): number {
  return (
    Object.keys(p.atMost).length +
    (p.repayOverdue ? 1 : 0) +
    (p.balanceAtMost !== null ? 1 : 0) +
    (p.closeLenders.length > 0 ? 1 : 0) +
    (p.incomeAtLeast !== null ? 1 : 0) +
    (p.monthsOnBook !== null ? 1 : 0)
  );
}

const NEGATED: Record<ComparisonOp, ComparisonOp> = {
  ">=": "<",
  ">": "<=",
  "<=": ">",
  "<": ">=",
  "==": "!=",
  "!=": "==",
};

/** Everything the candidate generators read about one evaluated candidate. */
interface Node {
  plan: RecoursePlan;
  projection: Projection;
  decision: Decision;
  cost: Cost;
}

interface Search {
  base: DecisionInput;
  state: FeatureState;
  now: EpochMs;
  ctx: RecourseContext;
}

/** Largest external loans first: closing them frees the most monthly payment. */
function lendersToClose(search: Search, plan: RecoursePlan, enough: (freed: Fen, closed: number) => boolean) {
  const open = Object.entries(search.state.lenders)
    .filter(([name]) => !plan.closeLenders.includes(name))
    .sort((a, b) => b[1].monthlyPayment - a[1].monthlyPayment || (a[0] < b[0] ? -1 : 1));
  const chosen: string[] = [];
  let freed = 0;
  for (const [name, lender] of open) {
    if (enough(freed, chosen.length)) break;
    chosen.push(name);
    freed += lender.monthlyPayment;
  }
  return enough(freed, chosen.length) ? chosen : null;
}

/** Changes that bring a feature to `op value`, in the direction the borrower can move it. */
function featurePatches(
  search: Search,
  node: Node,
  feature: FeatureName,
  op: ComparisonOp,
  value: number,
): Partial<RecoursePlan>[] {
  const input = node.projection.input;
  const current = input.features[feature];
  const lowering = FEATURES[feature].adverse === "higher";
  const strict = op === "<" || op === ">";
  if (lowering) {
    if (op === ">" || op === ">=") return [];
    const ratio = FEATURES[feature].unit === "ratio";
    const bound = op === "!=" ? value - 1 : strict && !ratio ? Math.ceil(value) - 1 : value;
    if (bound < 0 || (op === "==" && value > current)) return [];
    if (feature in DECAYING) {
      const patch: Partial<RecoursePlan> = { atMost: { [feature]: Math.floor(bound) } };
      if (feature === "overdueCount12m") patch.repayOverdue = true;
      return [patch];
    }
    switch (feature) {
      case "dpd":
        return [{ repayOverdue: true }];
      case "otherLenders": {
        const lenders = lendersToClose(search, node.plan, (_f, n) => current - n <= bound);
        return lenders === null ? [] : [{ closeLenders: lenders }];
      }
      case "utilisation": {
        const limit = input.line.limit;
        const cap = limit <= 0 ? 0 : strict ? Math.ceil(value * limit) - 1 : Math.floor(value * limit);
        return cap < 0 ? [] : [{ balanceAtMost: cap }];
      }
      case "debtToIncome": {
        const income = input.affordability.income;
        const obligations = monthlyObligations(search.state) - closedPayment(search, node.plan);
        const fits = (ob: number, inc: number) => (strict ? ob / inc < value : ob / inc <= value);
        const patches: Partial<RecoursePlan>[] = [];
        const lenders = lendersToClose(
          search,
          node.plan,
          (freed) => income > 0 && fits(obligations - freed, income),
        );
        if (lenders !== null && lenders.length > 0) patches.push({ closeLenders: lenders });
        if (value > 0) {
          let needed = ceilToYuan(obligations / value);
          if (!fits(obligations, needed)) needed += FEN_PER_YUAN;
          if (needed > income) patches.push({ incomeAtLeast: needed });
        }
        return patches;
      }
      default:
        return []; // fraud reports and anything else the borrower cannot change
    }
  }
  if (op === "<" || op === "<=") return [];
  const target = strict ? value + (Number.isInteger(value) ? 1 : 1e-9) : value;
  switch (feature) {
    case "monthsOnBook":
      return [{ monthsOnBook: Math.ceil(target) }];
    case "monthlyIncome":
      return [{ incomeAtLeast: ceilToYuan(target) }];
    case "incomeChange": {
      const previous = input.affordability.income;
      return [{ incomeAtLeast: ceilToYuan(previous * (1 + target)) }];
    }
    default:
      return [];
  }
}

function closedPayment(search: Search, plan: RecoursePlan): Fen {
  let sum = 0;
  for (const name of plan.closeLenders) sum += search.state.lenders[name]?.monthlyPayment ?? 0;
  return sum;
}

/** Single-feature changes that earn scorecard points towards `minScore`. */
function scorePatches(search: Search, node: Node, minScore: number): Partial<RecoursePlan>[] {
  const gap = minScore - node.decision.score;
  if (gap <= 0) return [];
  const patches: Partial<RecoursePlan>[] = [];
  for (const [feature, bands] of bandsOf(search.ctx.model)) {
    const value = node.projection.input.features[feature];
    let current = bands.findIndex((b) => b.below === null || value < b.below);
    if (current < 0) current = bands.length - 1;
    const points = (bands[current] as Band).points;
    const lowering = FEATURES[feature].adverse === "higher";
    let best = -1;
    let nearestEnough = -1;
    // Bands towards the better end, nearest first.
    const step = lowering ? -1 : 1;
    for (let j = current + step; j >= 0 && j < bands.length; j += step) {
      const gain = (bands[j] as Band).points - points;
      if (gain <= 0) continue;
      if (best < 0 || gain > (bands[best] as Band).points - points) best = j;
      if (nearestEnough < 0 && gain >= gap) nearestEnough = j;
    }
    if (nearestEnough >= 0) bandPatches(search, node, feature, bands, nearestEnough, lowering, patches);
    if (best >= 0 && best !== nearestEnough)
      bandPatches(search, node, feature, bands, best, lowering, patches);
  }
  return patches;
}

type Band = { below: number | null; points: number };

/** A model's bands as [feature, bands] pairs, worked out once per model. */
const bandsByModel = new WeakMap<PointsModel["bands"], [FeatureName, Band[]][]>();

function bandsOf(model: PointsModel): [FeatureName, Band[]][] {
  let entries = bandsByModel.get(model.bands);
  if (entries === undefined) {
    entries = Object.entries(model.bands) as [FeatureName, Band[]][];
    bandsByModel.set(model.bands, entries);
  }
  return entries;
}

/** Changes that move `feature` into band `j`, added to `patches`. */
function bandPatches(
  search: Search,
  node: Node,
  feature: FeatureName,
  bands: Band[],
  j: number,
  lowering: boolean,
  patches: Partial<RecoursePlan>[],
): void {
  const band = bands[j] as Band;
  if (lowering && band.below !== null)
    patches.push(...featurePatches(search, node, feature, "<", band.below));
  else if (!lowering) {
    const lower = bands[j - 1]?.below;
    if (lower !== undefined && lower !== null)
      patches.push(...featurePatches(search, node, feature, ">=", lower));
  }
}

/** Changes that bring the tier's target up to what the line needs (score, income or both). */
function targetPatches(search: Search, node: Node, need: Fen): Partial<RecoursePlan>[] {
  const { policy } = search.ctx;
  const income = node.projection.input.affordability.income;
  const score = node.decision.score;
  if (policy.guardrails.lineCap < need) return [];
  const patches: Partial<RecoursePlan>[] = [];
  const current = policy.tiers.rows.find((t) => t.id === node.decision.tier);
  if (current !== undefined && current.maxLimit >= need) {
    const needed = incomeFor(need, current.incomeMultiple);
    if (income < needed) patches.push({ incomeAtLeast: needed });
  }
  // A higher tier is reachable by score alone when its row asks for nothing but a score band:
  // the lowest such floor above the score (the first row with it).
  let higherFloor = Number.POSITIVE_INFINITY;
  for (const t of policy.tiers.rows) {
    if (t.maxLimit < need || !t.when.every((c) => c.fact === "score")) continue;
    const floor = scoreFloor(t.when);
    if (floor > score && floor < higherFloor) higherFloor = floor;
  }
  if (higherFloor !== Number.POSITIVE_INFINITY) patches.push(...scorePatches(search, node, higherFloor));
  return patches;
}

/** The monthly income (whole yuan) at which a tier's income multiple gives `need`. */
function incomeFor(need: Fen, multiple: number): Fen {
  let needed = ceilToYuan(need / multiple);
  if (Math.floor((needed * multiple) / FEN_PER_YUAN) * FEN_PER_YUAN < need) needed += FEN_PER_YUAN;
  return needed;
}

/** Changes that make one condition come out as `want`. */
function conditionPatches(search: Search, node: Node, condition: Condition, want: boolean) {
  const op = want ? condition.op : NEGATED[condition.op];
  const value = condition.value;
  switch (condition.fact) {
    case "frozen":
    case "closed":
      return [];
    case "score":
      return op === ">=" || op === ">" ? scorePatches(search, node, op === ">" ? value + 1 : value) : [];
    case "targetGap": {
      if (!(op === ">=" || op === ">") || value > 0) return [];
      const { limit } = node.projection.input.line;
      const floor = Math.max(value, -search.ctx.policy.guardrails.hysteresis);
      return targetPatches(search, node, Math.ceil(limit * (1 + floor)));
    }
    default:
      return featurePatches(search, node, condition.fact, op, value);
  }
}

function factsOf(node: Node): Record<string, number> {
  const line = node.projection.input.line;
  return {
    ...node.projection.input.features,
    score: node.decision.score,
    frozen: line.status === "FROZEN" ? 1 : 0,
    closed: line.status === "CLOSED" ? 1 : 0,
    targetGap: node.decision.trace.targetGap,
  };
}

/** The goal's outcome; `strict` also asks for the previous limit back, not a lower one. */
function turnedAround(goal: RecourseGoal, d: Decision): boolean {
  return goal === "keep" ? !d.adverse : d.action === "reopen";
}

/** Changes that stop `rule` from firing: any one held condition made false. */
function blockPatches(search: Search, node: Node, rule: PolicyRule) {
  return rule.when.flatMap((c) => conditionPatches(search, node, c, false));
}

function nextPatches(search: Search, node: Node, goal: RecourseGoal): Partial<RecoursePlan>[] {
  const { policy } = search.ctx;
  const d = node.decision;
  // Turned around at a lower limit (a reopening at the tier's target): raise the target.
  if (turnedAround(goal, d))
    return d.action === "reopen" ? targetPatches(search, node, search.base.line.limit) : [];
  const matchedIndex = policy.rules.findIndex((r) => r.id === d.trace.matchedRule);
  const matched = policy.rules[matchedIndex];
  if (goal === "keep") return matched === undefined ? [] : blockPatches(search, node, matched);
  const reopenIndex = policy.rules.findIndex((r) => r.action === "reopen");
  const reopen = policy.rules[reopenIndex];
  if (reopen === undefined) return [];
  if (matched !== undefined && matchedIndex < reopenIndex) return blockPatches(search, node, matched);
  if (matched === reopen) return affordabilityPatches(search, node, policy, d);
  const facts = factsOf(node);
  const failing = reopen.when.find((c) => !compare(facts[c.fact] as number, c.op, c.value));
  return failing === undefined ? [] : conditionPatches(search, node, failing, true);
}

/** A reopening refused on ability to pay: more proven income, or fewer other loans. */
function affordabilityPatches(search: Search, node: Node, policy: Policy, d: Decision) {
  const g = policy.guardrails;
  const input = node.projection.input;
  const limit = Math.min(d.trace.target, input.line.limit);
  const payment = Math.ceil(limit * g.minimumPaymentRate);
  const obligations = input.affordability.obligations;
  const patches: Partial<RecoursePlan>[] = [];
  const income = ceilToYuan((obligations + payment) / g.maxDebtToIncomeAfterIncrease);
  if (income > input.affordability.income) patches.push({ incomeAtLeast: income });
  const lenders = lendersToClose(
    search,
    node.plan,
    (freed) => obligations - freed + payment <= g.maxDebtToIncomeAfterIncrease * input.affordability.income,
  );
  if (lenders !== null && lenders.length > 0) patches.push({ closeLenders: lenders });
  return patches;
}

function moneyAsked(plan: RecoursePlan, search: Search): number {
  const { base, state, now } = search;
  const overdue = plan.repayOverdue ? overdueAmount(state, now) : 0;
  const balance =
    plan.balanceAtMost === null ? 0 : Math.max(0, base.line.balance - overdue - plan.balanceAtMost);
  return overdue + balance + closedPayment(search, plan) * 12;
}

type Cost = [number, number, number, number];

interface Candidate {
  plan: RecoursePlan;
  cost: Cost;
}

/** Cost without running the engine: fewest steps, then soonest, then least money, then least income. */
function costOf(search: Search, plan: RecoursePlan): Cost {
  return [
    stepCount(plan),
    planDate(plan, search.state, search.now),
    moneyAsked(plan, search),
    plan.incomeAtLeast ?? 0,
  ];
}

function evaluate(search: Search, candidate: Candidate): Node {
  // The cost's second term is the plan's date.
  const projection = projectPlan(candidate.plan, search.base, search.state, search.now, candidate.cost[1]);
  const decision = decide(projection.input, search.ctx, projection.at);
  return { plan: candidate.plan, projection, decision, cost: candidate.cost };
}

function cheaper(a: Candidate, b: Candidate): boolean {
  for (let i = 0; i < a.cost.length; i++) {
    if ((a.cost[i] as number) !== (b.cost[i] as number)) return (a.cost[i] as number) < (b.cost[i] as number);
  }
  return false;
}

/** A binary min-heap of candidates by cost. */
class CandidateHeap {
  private readonly items: Candidate[] = [];

  get size(): number {
    return this.items.length;
  }

  push(c: Candidate): void {
    const items = this.items;
    items.push(c);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!cheaper(items[i] as Candidate, items[parent] as Candidate)) break;
      [items[i], items[parent]] = [items[parent] as Candidate, items[i] as Candidate];
      i = parent;
    }
  }

  pop(): Candidate {
    const items = this.items;
    const top = items[0] as Candidate;
    const last = items.pop() as Candidate;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && cheaper(items[l] as Candidate, items[m] as Candidate)) m = l;
        if (r < items.length && cheaper(items[r] as Candidate, items[m] as Candidate)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as Candidate, items[i] as Candidate];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Best-first search over plans. Costs need no engine run, so candidates are ranked as they are
 * generated and decide() runs only on the one taken next. The first plan that turns the decision
 * around and gives the previous limit back is the cheapest that does; failing one within the
 * budget, the first that turns it around at all. Both come from one pass: a search for the
 * second alone would take nodes in the same order and stop at the same one.
 */
export function searchRecourse(
  base: DecisionInput,
  state: FeatureState,
  goal: RecourseGoal,
  ctx: RecourseContext,
  now: EpochMs,
): Node | null {
  const search: Search = { base, state, now, ctx };
  const open = new CandidateHeap();
  open.push({ plan: EMPTY_PLAN, cost: costOf(search, EMPTY_PLAN) });
  const seen = new Set<string>([planKey(EMPTY_PLAN)]);
  let turnaround: Node | null = null;
  for (let evaluated = 0; open.size > 0 && evaluated < NODE_BUDGET; evaluated++) {
    const node = evaluate(search, open.pop());
    if (turnedAround(goal, node.decision)) {
      if (node.decision.toLimit >= base.line.limit) return node;
      turnaround ??= node;
    }
    for (const patch of nextPatches(search, node, goal)) {
      const plan = mergePlans(node.plan, patch);
      const key = planKey(plan);
      if (seen.has(key)) continue;
      seen.add(key);
      open.push({ plan, cost: costOf(search, plan) });
    }
  }
  return turnaround;
}

/**
 * A plan's identity in the search: two plans share a key exactly when their JSON texts are equal
 * (waits in the same order, numbers as JSON writes them), in a few characters instead of the
 * whole text. The lenders, free text, come last but two, as JSON.
 */
function planKey(p: RecoursePlan): string {
  let key = "";
  for (const feature in p.atMost) {
    const bound = p.atMost[feature as DecayingFeature];
    if (bound !== undefined) key += `${feature}=${jsonNumber(bound)},`; // JSON leaves undefined out
  }
  const lenders = p.closeLenders.length === 0 ? "" : JSON.stringify(p.closeLenders);
  return `${key}|${p.repayOverdue ? 1 : 0}|${jsonNumber(p.balanceAtMost)}|${lenders}|${jsonNumber(p.incomeAtLeast)}|${jsonNumber(p.monthsOnBook)}`;
}

function jsonNumber(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "null" : String(v);
}

/** The concrete steps of a plan: amounts and dates the borrower can act on. */
export function planSteps(
  plan: RecoursePlan,
  projection: Pick<Projection, "balanceRepayment">,
  search: Pick<Search, "state" | "now">,
): RecourseStep[] {
  const { state, now } = search;
  const steps: RecourseStep[] = [];
  const overdue = overdueAmount(state, now);
  if (plan.repayOverdue && overdue > 0) steps.push({ kind: "repay_overdue", amount: overdue });
  // The same amount the projection repaid: the promise is what decide() gave on exactly that.
  const amount = projection.balanceRepayment;
  if (plan.balanceAtMost !== null && amount > 0)
    steps.push({ kind: "reduce_balance", amount, balanceAtMost: plan.balanceAtMost });
  if (plan.closeLenders.length > 0) {
    let monthlyPayment = 0;
    for (const name of plan.closeLenders) monthlyPayment += state.lenders[name]?.monthlyPayment ?? 0;
    steps.push({ kind: "close_loans", lenders: plan.closeLenders, monthlyPayment });
  }
  if (plan.incomeAtLeast !== null)
    steps.push({ kind: "prove_income", monthlyIncomeAtLeast: plan.incomeAtLeast });
  for (const [feature, atMost] of Object.entries(plan.atMost) as [DecayingFeature, number][]) {
    const by = planDate({ ...EMPTY_PLAN, atMost: { [feature]: atMost } }, state, now);
    steps.push({ kind: "wait", feature, atMost, by });
  }
  if (plan.monthsOnBook !== null)
    steps.push({
      kind: "tenure",
      monthsOnBook: plan.monthsOnBook,
      by: planDate({ ...EMPTY_PLAN, monthsOnBook: plan.monthsOnBook }, state, now),
    });
  return steps;
}

/**
 * The input whose outcome a recourse promises to change: the line as it was for `keep`, and the
 * line as the freeze left it for `reopen`.
 */
export function recourseBase(
  input: DecisionInput,
  decision: Decision,
): { goal: RecourseGoal; base: DecisionInput } {
  const inEffect = decision.effectiveAt <= decision.decidedAt && !decision.requiresReview;
  if (!inEffect || (decision.action !== "freeze" && decision.action !== "close"))
    return { goal: "keep", base: input };
  // A closed line comes back the way a frozen one does: judged at the limit it had, by the reopen
  // rule and its ability-to-pay check (the rebuilding plan reopens it the same way).
  return {
    goal: "reopen",
    base: {
      ...input,
      line: {
        ...input.line,
        status: "FROZEN",
        limit: decision.fromLimit,
        highestLimit30d: Math.max(input.line.highestLimit30d, decision.fromLimit),
        lastChangeAt: decision.decidedAt,
        pendingAction: null,
      },
    },
  };
}

/** Recourse for one adverse decision, from its input, the feature state it was read from and the engine. */
export function computeRecourse(
  input: DecisionInput,
  decision: Decision,
  state: FeatureState,
  ctx: RecourseContext,
): Recourse {
  const now = decision.decidedAt;
  const { goal, base } = recourseBase(input, decision);
  // The previous limit back if any plan gets there; failing that, the best turnaround there is.
  const found = searchRecourse(base, state, goal, ctx, now);
  if (found === null) {
    return {
      goal,
      available: false,
      plan: null,
      steps: [],
      by: now,
      outcome: null,
      ...phraseUnavailable(decision),
    };
  }
  const steps = planSteps(found.plan, found.projection, { state, now });
  const outcome = {
    action: found.decision.action,
    limit: found.decision.toLimit,
    status: found.decision.toStatus,
  };
  const by = found.projection.at;
  return {
    goal,
    available: true,
    plan: found.plan,
    steps,
    by,
    outcome,
    ...phraseRecourse(goal, steps, by, outcome.limit, decision),
  };
}

/** The lowest score a row of score conditions admits. */
function scoreFloor(when: readonly Condition[]): number {
  let floor = Number.NEGATIVE_INFINITY;
  for (const c of when) {
    if (c.op === ">=") floor = Math.max(floor, c.value);
    else if (c.op === ">") floor = Math.max(floor, c.value + 1);
  }
  return floor;
}
