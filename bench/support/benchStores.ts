import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshPostgresDatabase, postgresAvailability } from "../../test/support/stores.ts";

/**
 * Runs a benchmark on a fresh SQLite file and, when reachable, a fresh PostgreSQL database
 * (`only` picks one), each removed afterwards; says so when PostgreSQL is skipped.
 */
export async function onEachStore(
  only: string | undefined,
  bench: (name: "sqlite" | "postgres", url: string) => Promise<void>,
): Promise<void> {
  if (only !== "postgres") {
    const dir = mkdtempSync(join(tmpdir(), "headroom-bench-"));
    try {
      await bench("sqlite", `sqlite:${join(dir, "bench.db")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (only === "sqlite") return;
  const pg = await postgresAvailability();
  if (!pg.ok) {
    console.log(`postgres SKIPPED: ${pg.reason}`);
    return;
  }
  const database = await freshPostgresDatabase();
  try {
    await bench("postgres", database.url);
  } finally {
    await database.drop();
  }
}
