import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { seededRandom } from "../../src/engine/random.ts";
import { MS_PER_DAY } from "../../src/engine/time.ts";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyNoticeSignature,
} from "../../src/services/channels/webhook.ts";
import { borrowerEvents } from "../../src/services/demo/behaviour.ts";
import { syntheticProfile } from "../../src/services/demo/borrowerProfiles.ts";
import { openHeadroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { runHeadroom } from "../support/server.ts";

const END = Date.UTC(2026, 5, 1);
const SECRET = "crash-test-webhook-secret";

/**
 * A receiver that honours the Idempotency-Key contract: it checks the signature, applies each
 * notice id once, and counts every arrival so redeliveries are visible.
 */
function webhookReceiver(onArrival: (key: string, firstTime: boolean) => "answer" | "hang-up") {
  const arrivals = new Map<string, number>();
  const applied: string[] = [];
  let badSignatures = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += String(c);
    });
    req.on("end", () => {
      const signed = verifyNoticeSignature(
        SECRET,
        {
          timestamp: req.headers[TIMESTAMP_HEADER] as string | undefined,
          signature: req.headers[SIGNATURE_HEADER] as string | undefined,
        },
        body,
        Date.now(),
      );
      if (!signed) {
        badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const key = req.headers["idempotency-key"] as string;
      const firstTime = !arrivals.has(key);
      arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
      if (firstTime) applied.push(key);
      if (onArrival(key, firstTime) === "hang-up") {
        req.socket.destroy();
        return;
      }
      // A little latency, so the worker is killed with notices still committed and undelivered.
      setTimeout(() => res.writeHead(204).end(), 5);
    });
  });
  return { server, arrivals, applied, badSignatures: () => badSignatures };
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.on("exit", resolve));
}

describe("notice worker crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-notices-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("delivers every committed notice exactly once per id after a SIGKILL between commit and delivery", async () => {
    const database = `sqlite:${join(dir, "notices.db")}`;
    const seeding = await openHeadroom({ databaseUrl: database });
    const random = seededRandom(11);
    const events: CreditEvent[] = [];
    for (let i = 0; i < 120; i++)
      events.push(...borrowerEvents(i, syntheticProfile(random), random, END - 180 * MS_PER_DAY, 6, END));
    events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    for (let i = 0; i < events.length; i += 1000) await ingestEvents(seeding, events.slice(i, i + 1000));
    const notices = (await seeding.store.db.selectFrom("outbox").select("idempotency_key").execute()).map(
      (n) => n.idempotency_key,
    );
    expect(notices.length).toBeGreaterThan(30);

    let worker: ChildProcess | null = null;
    const killAt = Math.floor(notices.length / 3);
    const receiver = webhookReceiver((_key, firstTime) => {
      // On the killAt-th new notice the worker dies before it hears back: that notice has reached
      // the receiver but is not marked delivered, the worst moment for exactly-once.
      if (firstTime && receiver.applied.length === killAt && worker !== null) {
        worker.kill("SIGKILL");
        return "hang-up";
      }
      return "answer";
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    const env = {
      HEADROOM_WEBHOOK_URL: `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/notices`,
      HEADROOM_WEBHOOK_SECRET: SECRET,
    };
    const args = ["--database", database, "notices", "--interval", "50"];

    worker = runHeadroom(args, env);
    await exited(worker);
    expect(worker.signalCode).toBe("SIGKILL");
    const pendingAfterKill = await seeding.store.db
      .selectFrom("outbox")
      .select("id")
      .where("status", "=", "pending")
      .execute();
    expect(pendingAfterKill.length).toBeGreaterThan(notices.length / 2);

    worker = runHeadroom(args, env);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pending = await seeding.store.db
        .selectFrom("outbox")
        .select("id")
        .where("status", "!=", "delivered")
        .execute();
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending.length} notices still undelivered`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    worker.kill("SIGTERM");
    await exited(worker);
    receiver.server.close();

    // Every committed notice was applied by the receiver exactly once...
    expect(receiver.applied.slice().sort()).toEqual(notices.slice().sort());
    expect(new Set(receiver.applied).size).toBe(receiver.applied.length);
    // ...and only the one in flight at the kill reached it twice (refused as a repeat by its key).
    const repeats = [...receiver.arrivals.entries()].filter(([, n]) => n > 1);
    expect(repeats.map(([key]) => key)).toEqual([receiver.applied[killAt - 1]]);
    expect(receiver.badSignatures()).toBe(0);
    const webhookDeliveries = await seeding.store.db
      .selectFrom("notice_deliveries")
      .select(["notice_id"])
      .where("channel", "=", "webhook")
      .execute();
    expect(webhookDeliveries).toHaveLength(notices.length);
    await seeding.close();
  }, 120_000);
});
