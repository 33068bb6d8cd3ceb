import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { seededRandom } from "../../src/engine/random.ts";
import { MS_PER_DAY } from "../../src/engine/time.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { borrowerEvents } from "../../src/services/demo/behaviour.ts";
import { syntheticProfile } from "../../src/services/demo/borrowerProfiles.ts";
import { openHeadroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { createKeyWithCli, freePort, runHeadroom, waitForHealthy } from "../support/server.ts";

const END = Date.UTC(2026, 5, 1);
const BATCH = 250;

function demoBatches(borrowers: number): CreditEvent[][] {
  const random = seededRandom(7);
  const events: CreditEvent[] = [];
  for (let i = 0; i < borrowers; i++) {
    events.push(...borrowerEvents(i, syntheticProfile(random), random, END - 180 * MS_PER_DAY, 6, END));
  }
  events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const batches: CreditEvent[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  return batches;
}

async function post(
  port: number,
  key: string,
  batch: CreditEvent[],
): Promise<{ results: { status: string }[] }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ events: batch }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as { results: { status: string }[] };
}

describe("crash safety", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-crash-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loses no accepted event and duplicates no decision or notice when SIGKILLed mid-ingest", async () => {
    const batches = demoBatches(300);
    const database = `sqlite:${join(dir, "crash.db")}`;
    const port = await freePort();
    const args = ["--database", database, "serve", "--port", String(port), "--no-background"];

    const key = await createKeyWithCli(database, "integration", "core");
    let server = runHeadroom(args);
    await waitForHealthy(port, server);
    const acknowledged: number[] = [];
    const killAfter = Math.floor(batches.length / 3);
    let killed = false;
    for (let i = 0; i < batches.length && !killed; i++) {
      const request = post(port, key, batches[i] as CreditEvent[]);
      if (i === killAfter) {
        // Kill while this batch is in flight: it may or may not have committed.
        setTimeout(() => server.kill("SIGKILL"), 3);
        killed = true;
      }
      try {
        await request;
        acknowledged.push(i);
      } catch {
        // the in-flight batch was cut off
      }
    }
    await new Promise((resolve) =>
      server.exitCode !== null || server.signalCode !== null ? resolve(null) : server.on("exit", resolve),
    );
    expect(server.signalCode).toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);

    // Restart; the client retries everything from the start, as an at-least-once producer would.
    server = runHeadroom(args);
    await waitForHealthy(port, server);
    for (const [i, batch] of batches.entries()) {
      const { results } = await post(port, key, batch);
      if (acknowledged.includes(i)) expect(results.every((r) => r.status !== "accepted")).toBe(true);
    }
    server.kill("SIGTERM");
    await new Promise((resolve) => server.on("exit", resolve));

    // A reference run of the same batches with no crash must hold exactly the same effects.
    const reference = await openHeadroom({ databaseUrl: "sqlite::memory:" });
    for (const batch of batches) await ingestEvents(reference, batch);
    const crashed = await openHeadroom({ databaseUrl: database });
    const effects = async (h: typeof reference) => ({
      events: (await h.store.db.selectFrom("events").select("event_id").orderBy("event_id").execute()).map(
        (r) => r.event_id,
      ),
      decisions: (
        await h.store.db
          .selectFrom("decisions")
          .select(["idempotency_key", "action", "to_limit", "status"])
          .orderBy("idempotency_key")
          .execute()
      ).map((d) => `${d.idempotency_key} ${d.action} ${d.to_limit} ${d.status}`),
      notices: (
        await h.store.db.selectFrom("outbox").select("idempotency_key").orderBy("idempotency_key").execute()
      ).map((n) => n.idempotency_key),
      lines: (
        await h.store.db
          .selectFrom("credit_lines")
          .select(["account_id", "limit_amount", "status", "balance"])
          .orderBy("account_id")
          .execute()
      ).map((l) => `${l.account_id} ${l.limit_amount} ${l.status} ${l.balance}`),
    });
    const [got, want] = [await effects(crashed), await effects(reference)];
    expect(got.events.length).toBe(want.events.length);
    expect(got.decisions.length).toBeGreaterThan(100);
    expect(got).toEqual(want);
    expect((await verifyLedger(crashed.store)).ok).toBe(true);
    await crashed.close();
    await reference.close();
  });
});
