import { openStore, type StoreOptions } from "../store/connect.ts";
import { ApiActionLog } from "./actionLog.ts";
import { EventIntake } from "./eventIntake.ts";
import type { IngestDeps } from "./ingest.ts";
import { LineCache } from "./lineCache.ts";
import { Metrics } from "./metrics.ts";
import { Mutex } from "./mutex.ts";
import { sealNoticesWrittenBeforeSealing } from "./noticeBackfill.ts";
import { loadActiveEngine } from "./policyVersions.ts";

export interface Headroom extends IngestDeps {
  /** Where concurrent batches enter, so they can commit together. */
  intake: EventIntake;
  /** Where the API seals each principal's writes (concurrent ones commit together). */
  actions: ApiActionLog;
  metrics: Metrics;
  close(): Promise<void>;
}

/** Opens the store (migrating it), compiles the policy deployment in force and shares one write lock. */
export async function openHeadroom(
  options: {
    databaseUrl?: string;
    clock?: () => number;
    store?: StoreOptions;
    fence?: IngestDeps["fence"];
  } = {},
): Promise<Headroom> {
  const store = await openStore(options.databaseUrl ?? process.env.HEADROOM_DATABASE_URL, options.store);
  const writeLock = new Mutex();
  const deps: IngestDeps = {
    store,
    engine: await loadActiveEngine(store),
    clock: options.clock ?? Date.now,
    writeLock,
    ...(options.fence === undefined ? {} : { fence: options.fence }),
    // PostgreSQL has no data_version to tell when another connection committed.
    ...(store.dialect === "sqlite" ? { lineCache: new LineCache(writeLock) } : {}),
  };
  await sealNoticesWrittenBeforeSealing(store, deps.clock());
  const metrics = new Metrics();
  metrics.gauge("headroom_outbox_backlog", "Notices in the outbox not yet delivered", [], async (set) => {
    const row = await store.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "pending")
      .executeTakeFirst();
    set(Number(row?.n ?? 0));
  });
  return {
    ...deps,
    intake: new EventIntake(deps, metrics),
    actions: new ApiActionLog(deps),
    metrics,
    close: () => store.close(),
  };
}
