/**
 * Full portfolio review over a synthetic book: every open line re-decided under the policy in
 * force and every change persisted (decision, recourse, line change, ledger seal, notice), a chunk
 * per transaction with its committed cursor (src/services/review.ts).
 *
 *   npx tsx bench/review.ts [--accounts 1000000] [--store sqlite|postgres] [--drifted 0.05]
 *
 * Prints accounts/s, the peer (a bare scan of the book in the same run) and peak RSS; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReview } from "../src/services/review.ts";
import { benchArgs, freshStore, peakRssMiB, perSecond, scanBook, seedBook } from "./support/syntheticBook.ts";

const { accounts, store, drifted } = benchArgs();
const NOW = Date.UTC(2026, 10, 1);
const dir = mkdtempSync(join(tmpdir(), "headroom-bench-review-"));
const { headroom, dispose } = await freshStore(store, dir, NOW);
try {
  const seeded = await seedBook(headroom, accounts, NOW, drifted);
  console.log(
    `seeded ${accounts.toLocaleString("en-US")} lines on ${store} in ${seeded.toFixed(1)} s (${drifted * 100}% drifted since the last review)`,
  );
  const scan = await scanBook(headroom);
  const started = performance.now();
  const progress = await runReview(headroom, "bench");
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `review: ${progress.reviewed.toLocaleString("en-US")} lines in ${seconds.toFixed(1)} s = ${perSecond(progress.reviewed, seconds)} accounts/s; ${progress.changed.toLocaleString("en-US")} decisions persisted`,
  );
  console.log(
    `peer, bare scan of the book: ${perSecond(scan, 1)} lines/s; review runs at ${((progress.reviewed / seconds / scan) * 100).toFixed(0)}% of it`,
  );
  console.log(
    `peak RSS ${peakRssMiB().toFixed(0)} MiB (figures measured on a shared 2-core machine, under load)`,
  );
} finally {
  await dispose();
  rmSync(dir, { recursive: true, force: true });
}
