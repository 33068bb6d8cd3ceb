import { decide } from "../engine/decide.ts";
import { BudgetBook } from "./budgetBook.ts";
import { type ClassMeasureSettings, classMeasuresIn } from "./classMeasures.ts";
import { type ActiveEngine, contextFor } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { decisionInput } from "./lineBook.ts";
import { loadOpenLinesAfter, saveLines } from "./lineLoader.ts";
import { repriceLine } from "./rateChanges.ts";
import { WriteSet } from "./writeSet.ts";

export interface ReviewProgress {
  runId: string;
  reviewed: number;
  changed: number;
  done: boolean;
}

export const REVIEW_CHUNK = 1000;
/** The cursor a finished review leaves: after every account id. */
export const DONE = "\u{10FFFF}";
/** The job_cursors key of a review run. */
export const reviewJob = (runId: string) => `review:${runId}`;

/**
 * Periodic portfolio review: re-decides every open line in account order, a chunk per transaction.
 * The cursor commits with the chunk, so a killed review resumes where it stopped, and decision
 * keys include the run id, so a chunk replayed after a crash cannot decide twice. Reviews record
 * only decisions that change something; the count of unchanged accounts is the run's progress.
 */
export async function runReview(
  deps: IngestDeps,
  runId: string,
  onProgress: (p: ReviewProgress) => void = () => {},
  /** Only the lines of one region (a regional measure re-decides its region alone). */
  only: { region?: string } = {},
): Promise<ReviewProgress> {
  const { store, engine } = deps;
  const job = reviewJob(runId);
  const progress: ReviewProgress = { runId, reviewed: 0, changed: 0, done: false };
  for (;;) {
    const chunk = await deps.writeLock.run(() =>
      store.db.transaction().execute(async (trx) => {
        const cursorRow = await trx
          .selectFrom("job_cursors")
          .select("cursor")
          .where("job", "=", job)
          .executeTakeFirst();
        const cursor = cursorRow?.cursor ?? "";
        if (cursor === DONE) return null;
        const now = deps.clock();
        const lines = await loadOpenLinesAfter(trx, store, cursor, REVIEW_CHUNK, only);
        const writes = reviewChunk(engine, lines.values(), runId, now, {
          budgets: await BudgetBook.open(trx),
          measures: await classMeasuresIn(trx),
        });
        await saveLines(trx, store, lines.values(), now);
        await writes.flush(trx, store);
        let last: string | undefined;
        for (const id of lines.keys()) last = id;
        const next = lines.size < REVIEW_CHUNK || last === undefined ? DONE : last;
        await trx
          .insertInto("job_cursors")
          .values({ job, cursor: next, updated_at: now })
          .onConflict((oc) => oc.column("job").doUpdateSet({ cursor: next, updated_at: now }))
          .execute();
        return { reviewed: lines.size, changed: writes.decisions.length, done: next === DONE };
      }),
    );
    if (chunk === null) {
      progress.done = true;
      return progress;
    }
    progress.reviewed += chunk.reviewed;
    progress.changed += chunk.changed;
    progress.done = chunk.done;
    onProgress(progress);
    if (chunk.done) return progress;
  }
}

function reviewChunk(
  engine: ActiveEngine,
  lines: Iterable<import("./lineBook.ts").LineRecord>,
  runId: string,
  now: number,
  portfolio: { budgets: BudgetBook; measures: ClassMeasureSettings },
) {
  const writes = new WriteSet(engine, now, portfolio.budgets);
  for (const line of lines) {
    const input = decisionInput(line, { kind: "review", runId }, now, portfolio.measures);
    const decision = decide(input, contextFor(engine, input.accountId), now);
    const key = `review:${runId}:${line.row.account_id}`;
    if (decision.action !== "none") writes.record(line, input, decision, key);
    repriceLine(writes, line, input, decision, key);
  }
  return writes;
}
