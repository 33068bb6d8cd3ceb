import { openStore } from "../store/connect.ts";
import { EventIntake } from "./eventIntake.ts";
import type { IngestDeps } from "./ingest.ts";
import { Mutex } from "./mutex.ts";
import { loadActiveEngine } from "./policyVersions.ts";

export interface Headroom extends IngestDeps {
  /** Where concurrent batches enter, so they can commit together. */
  intake: EventIntake;
  close(): Promise<void>;
}

/** Opens the store (migrating it), compiles the policy deployment in force and shares one write lock. */
export async function openHeadroom(
  options: { databaseUrl?: string; clock?: () => number } = {},
): Promise<Headroom> {
  const store = await openStore(options.databaseUrl ?? process.env.HEADROOM_DATABASE_URL);
  const deps: IngestDeps = {
    store,
    engine: await loadActiveEngine(store),
    clock: options.clock ?? Date.now,
    writeLock: new Mutex(),
  };
  return { ...deps, intake: new EventIntake(deps), close: () => store.close() };
}
