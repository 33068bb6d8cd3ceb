import { openStore } from "../store/connect.ts";
import { activeEngine } from "./engineConfig.ts";
import type { IngestDeps } from "./ingest.ts";
import { Mutex } from "./mutex.ts";

export interface Headroom extends IngestDeps {
  close(): Promise<void>;
}

/** Opens the store (migrating it), compiles the active engine and shares one write lock. */
export async function openHeadroom(
  options: { databaseUrl?: string; clock?: () => number } = {},
): Promise<Headroom> {
  const store = await openStore(options.databaseUrl ?? process.env.HEADROOM_DATABASE_URL);
  return {
    store,
    engine: activeEngine(),
    clock: options.clock ?? Date.now,
    writeLock: new Mutex(),
    close: () => store.close(),
  };
}
