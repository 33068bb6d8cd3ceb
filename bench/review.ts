/**
 * Full portfolio review over a synthetic book: every open line re-decided under the policy in
 * force and every change persisted (decision, recourse, line change, ledger seal, notice), a chunk
 * per transaction with its committed cursor (src/services/review.ts).
 *
 *   npm run bench:review -- [--accounts 1000000] [--store sqlite|postgres] [--drifted 0.05]
 *
 * Prints accounts/s, the peer (a bare scan of the book in the same run) and peak RSS; asserts nothing.
 * Run it with the young generation the CLI runs with (bin/headroom.mjs), as the npm script does;
 * without it the bench says so, and measures about 14% more CPU than a production review spends.
 */
import NODE_FLAGS from "../bin/node-flags.json" with { type: "json" };
import { runReview } from "../src/services/review.ts";
import { cpuSeconds, onSeededBook, perSecond } from "./support/syntheticBook.ts";

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
for (const flag of NODE_FLAGS)
  if (!given.includes(flag)) console.log(`note: running without ${flag}, which the CLI runs with`);

await onSeededBook("review", async ({ headroom, scan }) => {
  const started = performance.now();
  const cpuAtStart = cpuSeconds();
  const progress = await runReview(headroom, "bench");
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `review: ${progress.reviewed.toLocaleString("en-US")} lines in ${seconds.toFixed(1)} s (${(cpuSeconds() - cpuAtStart).toFixed(1)} s of CPU) = ${perSecond(progress.reviewed, seconds)} accounts/s; ${progress.changed.toLocaleString("en-US")} decisions persisted`,
  );
  console.log(
    `peer, bare scan of the book: ${perSecond(scan, 1)} lines/s; review runs at ${((progress.reviewed / seconds / scan) * 100).toFixed(0)}% of it`,
  );
});
