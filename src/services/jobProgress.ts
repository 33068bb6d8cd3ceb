import type { Store } from "../store/connect.ts";
import { DONE, reviewJob } from "./review.ts";

export interface JobProgress {
  job: string;
  kind: string;
  updatedAt: string;
  done: boolean;
  /** Accounts behind the cursor and accounts the job covers, when the job walks the book by account id. */
  processed: number | null;
  total: number | null;
}

const REVIEW_PREFIX = reviewJob("");

/**
 * Progress of long jobs from their committed cursors. A review walks open lines in account order,
 * so its progress is the open lines at or before its cursor: two index range counts, no scan of work.
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
  const total = rows.some((r) => r.job.startsWith(REVIEW_PREFIX)) ? await openLines() : null;
  return Promise.all(
    rows.map(async (row) => {
      const done = row.cursor === DONE;
      const review = row.job.startsWith(REVIEW_PREFIX);
      return {
        job: row.job,
        kind: row.job.split(":")[0] ?? row.job,
        updatedAt: new Date(row.updated_at).toISOString(),
        done,
        processed: review ? (done ? total : await openLines(row.cursor)) : null,
        total: review ? total : null,
      };
    }),
  );
}
