/**
 * Decision throughput: the same credit-line policy (policies/default.yaml: risk-tier table, region-
 * factored limit formula, 12 rules) decided for the same seeded accounts by Headroom's compiled
 * decide(), by @gorules/zen-engine as a JDM graph (many evaluations in flight, its fastest mode) and
 * by json-rules-engine. Checks that all three pick the same tier, target limit and rule (hence the
 * same action) for every account, then prints decisions/s and the ratios.
 *
 *   npm run bench:decide [-- --accounts 100000]
 *
 * Headroom's figure includes scoring, guardrails, the trace and principal reasons for adverse
 * decisions; the peers receive the score precomputed, so they do strictly less work.
 */
import { ZenEngine } from "@gorules/zen-engine";
import { type DecisionInput, decide, type LineStatus } from "../src/engine/decide.ts";
import { REGIONS } from "../src/engine/events.ts";
import type { Features } from "../src/engine/features.ts";
import { seededRandom } from "../src/engine/random.ts";
import { activeEngine } from "../src/services/engineConfig.ts";
import { type JreFacts, jsonRulesDecider } from "./peers/jsonRules.ts";
import { zenGraph } from "./peers/zenGraph.ts";

const argAt = process.argv.indexOf("--accounts");
const ACCOUNTS = argAt > 0 ? Number(process.argv[argAt + 1]) : 100_000;
if (!Number.isInteger(ACCOUNTS) || ACCOUNTS <= 0) throw new Error("--accounts must be a positive integer");
const NOW = Date.UTC(2026, 5, 1);
const engine = activeEngine();
const policy = engine.policy;

function generateAccounts(n: number, seed: number): DecisionInput[] {
  const rnd = seededRandom(seed);
  const accounts: DecisionInput[] = [];
  for (let i = 0; i < n; i++) {
    const u = rnd.next();
    const dpd = u < 0.85 ? 0 : u < 0.92 ? 1 + rnd.int(29) : u < 0.97 ? 30 + rnd.int(60) : 90 + rnd.int(200);
    const otherLenders = rnd.poisson(1.5);
    const inquiries30d = rnd.poisson(1.5);
    const income = (3_000 + rnd.int(47_000)) * 100;
    const features: Features = {
      dpd,
      overdueCount12m: rnd.poisson(dpd > 0 ? 2 : 0.3),
      inquiries30d,
      inquiries90d: inquiries30d + rnd.poisson(2),
      otherLenders,
      newLenders90d: Math.min(otherLenders, rnd.poisson(0.8)),
      utilisation: Math.round(rnd.next() * 110) / 100,
      debtToIncome: Math.round(rnd.next() * 100) / 100,
      incomeChange: rnd.next() < 0.9 ? 0 : Math.round((rnd.next() * 0.8 - 0.5) * 100) / 100,
      monthsOnBook: rnd.int(60),
      loginAnomalies30d: rnd.next() < 0.01 ? 5 + rnd.int(5) : rnd.poisson(0.3),
      prohibitedUse90d: rnd.next() < 0.02 ? 1 : 0,
      fraudFlag: rnd.next() < 0.003 ? 1 : 0,
      monthlyIncome: income,
    };
    const s = rnd.next();
    const status: LineStatus = s < 0.9 ? "ACTIVE" : s < 0.98 ? "FROZEN" : "CLOSED";
    const limit = status === "CLOSED" ? 0 : (10 + rnd.int(90)) * 100_000;
    accounts.push({
      accountId: `acct-${i}`,
      line: {
        status,
        limit,
        balance: Math.floor(limit * features.utilisation),
        lastChangeAt: null,
        highestLimit30d: limit,
        pendingAction: null,
      },
      features,
      region: rnd.pick(REGIONS),
      affordability: {
        income,
        verified: rnd.next() < 0.6,
        obligations: Math.floor(income * features.debtToIncome),
      },
      optOutAutomated: false,
      trigger: { kind: "review", runId: "bench" },
    });
  }
  return accounts;
}

interface Outcome {
  tier: string;
  target: number;
  ruleId: string | null;
}

function peerFacts(input: DecisionInput): JreFacts {
  return {
    ...input.features,
    score: engine.scorer(input.features).score,
    frozen: input.line.status === "FROZEN" ? 1 : 0,
    closed: input.line.status === "CLOSED" ? 1 : 0,
    income: input.affordability.income,
    limit: input.line.limit,
    region: input.region ?? "",
  };
}

function rate(n: number, ms: number): number {
  return (n * 1000) / ms;
}

const accounts = generateAccounts(ACCOUNTS, 20260601);
const facts = accounts.map(peerFacts);

// Headroom: a warm-up pass, then timed passes over the whole book.
const headroom: Outcome[] = accounts.map((a) => {
  const d = decide(a, engine, NOW);
  return { tier: d.tier, target: d.trace.target, ruleId: d.trace.matchedRule };
});
const passes = 5;
let adverse = 0;
let started = performance.now();
for (let p = 0; p < passes; p++) {
  for (const a of accounts) if (decide(a, engine, NOW).adverse) adverse++;
}
const headroomRate = rate(ACCOUNTS * passes, performance.now() - started);

// ZEN: the JDM graph, evaluated with many evaluations in flight.
const zen = new ZenEngine();
const graph = zen.createDecision(zenGraph(policy));
const IN_FLIGHT = 2_000;
async function runZen(): Promise<Outcome[]> {
  const out: Outcome[] = new Array(ACCOUNTS);
  for (let from = 0; from < ACCOUNTS; from += IN_FLIGHT) {
    const batch = facts.slice(from, from + IN_FLIGHT);
    const results = await Promise.all(batch.map((f) => graph.evaluate(f)));
    results.forEach((r, i) => {
      out[from + i] = {
        tier: r.result.tierId,
        target: Number(r.result.target),
        ruleId: r.result.ruleId ?? null,
      };
    });
  }
  return out;
}
await runZen();
started = performance.now();
const zenOut = await runZen();
const zenRate = rate(ACCOUNTS, performance.now() - started);

// json-rules-engine.
const jre = jsonRulesDecider(policy);
started = performance.now();
const jreOut: Outcome[] = [];
for (let from = 0; from < ACCOUNTS; from += IN_FLIGHT) {
  jreOut.push(...(await Promise.all(facts.slice(from, from + IN_FLIGHT).map(jre))));
}
const jreRate = rate(ACCOUNTS, performance.now() - started);

const same = (a: Outcome, b: Outcome | undefined) =>
  b !== undefined && a.tier === b.tier && a.target === b.target && a.ruleId === b.ruleId;
let agree = 0;
const mismatches: string[] = [];
headroom.forEach((h, i) => {
  if (same(h, zenOut[i]) && same(h, jreOut[i])) agree++;
  else if (mismatches.length < 5)
    mismatches.push(
      `${accounts[i]?.accountId}: headroom ${JSON.stringify(h)} zen ${JSON.stringify(zenOut[i])} jre ${JSON.stringify(jreOut[i])}`,
    );
});
const fired = new Map<string, number>();
for (const h of headroom) fired.set(h.ruleId ?? "(none)", (fired.get(h.ruleId ?? "(none)") ?? 0) + 1);

console.log(
  `policy ${policy.version}: ${policy.tiers.rows.length} tiers, ${policy.rules.length} rules; ${ACCOUNTS} accounts`,
);
console.log(`rules fired: ${[...fired].map(([id, n]) => `${id}=${n}`).join(" ")}`);
console.log(`agreement (tier, target limit, rule/action): ${agree}/${ACCOUNTS}`);
console.log(
  `headroom           ${Math.round(headroomRate).toLocaleString("en-US")} decisions/s (${passes} passes, ${adverse / passes} adverse with reasons per pass)`,
);
console.log(
  `zen-engine 0.52.1  ${Math.round(zenRate).toLocaleString("en-US")} decisions/s (${IN_FLIGHT} in flight)`,
);
console.log(`json-rules-engine  ${Math.round(jreRate).toLocaleString("en-US")} decisions/s`);
console.log(
  `ratios: headroom/zen ${(headroomRate / zenRate).toFixed(1)}x (target >= 5x), headroom/json-rules-engine ${(headroomRate / jreRate).toFixed(1)}x (target >= 20x)`,
);
if (agree !== ACCOUNTS) {
  console.error(`MISMATCH: ${ACCOUNTS - agree} accounts differ\n${mismatches.join("\n")}`);
  process.exit(1);
}
