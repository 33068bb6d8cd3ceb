import type { Store } from "../store/connect.ts";
import { DONE, reviewJob } from "./review.ts";
import { simulationJob } from "./simulationRun.ts";

export interface JobProgress {
  job: string;
  kind: string;
  updatedAt: string;
  done: boolean;
  /** Accounts behind the cursor and accounts the job covers, when the job walks the book by account id. */
  processed: number | null;
  total: number | null;
}

/**
 * Jobs that walk the open lines by account id, so their cursor says how far they are. A replayed
 * simulation walks the lines open at its date, so its count is close but not exact.
 */
const BOOK_WALKS = [reviewJob(""), simulationJob("")];
const walksBook = (job: string) => BOOK_WALKS.some((prefix) => job.startsWith(prefix));

/**
 * Progress of long jobs from their committed cursors. A review or simulation walks open lines in
 * account order, so its progress is the open lines at or before its cursor: two index range
 * counts, no scan of work.
 */
export async function listJobProgress(store: Store, limit: number): Promise<JobProgress[]> {
  const rows = await store.db
    .selectFrom("job_cursors")
    .selectAll()
    .orderBy("updated_at", "desc")
    .limit(limit)
    .execute();
  const openLines = async (upTo?: string) => {
    let query = store.db
      .selectFrom("credit_lines")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "!=", "CLOSED");
    if (upTo !== undefined) query = query.where("account_id", "<=", upTo);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const total = rows.some((r) => walksBook(r.job)) ? await openLines() : null;
  return Promise.all(
    rows.map(async (row) => {
      const done = row.cursor === DONE;
      const walking = walksBook(row.job);
      return {
        job: row.job,
        kind: row.job.split(":")[0] ?? row.job,
        updatedAt: new Date(row.updated_at).toISOString(),
        done,
        processed: walking ? (done ? total : await openLines(row.cursor)) : null,
        total: walking ? total : null,
      };
    }),
  );
}
