import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { drawdown, inquiry, opened } from "../support/events.ts";
import { manualClock } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

/**
 * Ingest keeps the lines it wrote in memory between transactions (lineCache.ts). Each test changes
 * a cached line behind ingest's back in one of the ways the cache must notice, then sends a
 * drawdown that only the line as stored refuses (or, for the failed transaction, accepts).
 */
describe("lines kept between ingest transactions", () => {
  let dir: string;
  let file: string;
  let headroom: Headroom;
  const clock = manualClock(T0 + 30 * DAY);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "headroom-line-cache-"));
    file = join(dir, "headroom.db");
    headroom = await openHeadroom({ databaseUrl: `sqlite:${file}`, clock: clock.now });
    await ingestEvents(headroom, [opened("a", T0), drawdown("a", "d1", T0 + DAY, 100_000)]);
  });
  afterEach(async () => {
    await headroom.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const line = () =>
    headroom.store.db
      .selectFrom("credit_lines")
      .select(["limit_amount", "balance"])
      .where("account_id", "=", "a")
      .executeTakeFirstOrThrow();

  it("reads a line again after another connection (another process) committed a change to it", async () => {
    const other = new SQLite(file);
    other.prepare("update credit_lines set limit_amount = 500000 where account_id = 'a'").run();
    other.close();
    const result = await ingestEvents(headroom, [drawdown("a", "d2", T0 + 2 * DAY, 450_000)]);
    expect(result.results[0]).toEqual({
      id: "d2",
      status: "rejected",
      reason: "drawdown refused: 450000 exceeds the available 400000 fen",
    });
  });

  it("reads a line again after another writer in this process took the write lock", async () => {
    await headroom.writeLock.run(async () => {
      await headroom.store.db
        .updateTable("credit_lines")
        .set({ limit_amount: 500_000 })
        .where("account_id", "=", "a")
        .execute();
    });
    const result = await ingestEvents(headroom, [drawdown("a", "d2", T0 + 2 * DAY, 450_000)]);
    expect(result.results[0]?.status).toBe("rejected");
    expect(await line()).toEqual({ limit_amount: 500_000, balance: 100_000 });
  });

  it("forgets what a failed transaction changed in memory", async () => {
    // On ingest's own connection and outside the write lock, so nothing but the failure itself
    // can make the cache forget.
    await sql`create trigger refuse_boom before insert on events when new.event_id = 'boom'
      begin select raise(abort, 'injected failure'); end`.execute(headroom.store.db);
    await expect(
      ingestEvents(headroom, [
        drawdown("a", "d2", T0 + 2 * DAY, 300_000),
        inquiry("a", "boom", T0 + 2 * DAY),
      ]),
    ).rejects.toThrow(/injected failure/);
    await sql`drop trigger refuse_boom`.execute(headroom.store.db);
    const result = await ingestEvents(headroom, [drawdown("a", "d3", T0 + 3 * DAY, 400_000)]);
    expect(result.results[0]?.status).toBe("accepted");
    // d1 and d3; d2 was never committed.
    expect((await line()).balance).toBe(500_000);
  });
});
