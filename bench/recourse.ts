import { loadavg } from "node:os";
import type { Decision, DecisionInput } from "../src/engine/decide.ts";
import { decide } from "../src/engine/decide.ts";
import type { FeatureState } from "../src/engine/features.ts";
import { computeRecourse } from "../src/engine/recourse.ts";
import { seedDemo } from "../src/services/demo/seedDemo.ts";
import { openHeadroom } from "../src/services/headroom.ts";

/**
 * Recourse cost per adverse decision of a seeded demo portfolio, beside decide() on the same
 * inputs in the same run. Usage: npm run bench:recourse [-- borrowers]
 */
const borrowers = Number(process.argv[2] ?? 3000);
const END = Date.UTC(2026, 5, 1);
const headroom = await openHeadroom({ databaseUrl: "sqlite::memory:", clock: () => END });
await seedDemo(headroom, { borrowers, months: 6, seed: 42, end: END });
const rows = await headroom.store.db
  .selectFrom("decisions")
  .innerJoin("decision_recourse", "decision_recourse.decision_id", "decisions.id")
  .select(["decisions.input", "decisions.output", "decision_recourse.state"])
  .execute();
const cases = rows.map((r) => ({
  input: JSON.parse(r.input) as DecisionInput,
  output: JSON.parse(r.output) as Decision,
  state: JSON.parse(r.state) as FeatureState,
}));
const ROUNDS = 20;
const times: number[] = [];
const roundMeans: number[] = [];
let steps = 0;
for (let round = 0; round < ROUNDS; round++) {
  const roundStarted = performance.now();
  for (const c of cases) {
    const started = performance.now();
    const recourse = computeRecourse(c.input, c.output, c.state, headroom.engine);
    times.push(performance.now() - started);
    if (round === 0) steps += recourse.steps.length;
  }
  roundMeans.push((performance.now() - roundStarted) / cases.length);
}
const decideStarted = performance.now();
for (let round = 0; round < ROUNDS; round++)
  for (const c of cases) decide(c.input, headroom.engine, c.output.decidedAt);
const decideMs = (performance.now() - decideStarted) / (ROUNDS * cases.length);
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
process.stdout.write(
  `recourse over ${cases.length} adverse decisions of ${borrowers} demo borrowers (${ROUNDS} rounds): ` +
    `mean ${(mean * 1000).toFixed(1)} µs (best round ${(Math.min(...roundMeans) * 1000).toFixed(1)} µs), p50 ${(pct(0.5) * 1000).toFixed(1)} µs, p99 ${(pct(0.99) * 1000).toFixed(1)} µs, ` +
    `max ${(pct(1) * 1000).toFixed(1)} µs; ${(steps / cases.length).toFixed(2)} steps each; ` +
    `decide() ${(decideMs * 1000).toFixed(2)} µs, recourse/decide ${(mean / decideMs).toFixed(1)}x (load average ${loadavg()[0]?.toFixed(1)})\n`,
);
await headroom.close();
