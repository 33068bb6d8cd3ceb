import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import {
  backoffMs,
  deliverDueNotices,
  logChannel,
  MAX_DELIVERY_ATTEMPTS,
  webhookChannel,
} from "../../src/services/notices.ts";
import { fraud, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);

describe("notice delivery from the outbox", () => {
  const clock = manualClock(T0 + 86_400_000);
  let headroom: Headroom & { dispose(): Promise<void> };
  let server: Server;
  let url = "";
  let failuresLeft = 0;
  const received: { key: string | undefined; body: Record<string, unknown> }[] = [];

  beforeEach(async () => {
    headroom = await sqliteTarget.open(clock.now);
    received.length = 0;
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += String(c);
      });
      req.on("end", () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end();
          return;
        }
        received.push({ key: req.headers["idempotency-key"] as string | undefined, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notices`;
  });
  afterEach(async () => {
    server.close();
    await headroom.dispose();
  });

  const deliver = () =>
    deliverDueNotices({
      store: headroom.store,
      clock: clock.now,
      channels: [logChannel(pino({ level: "silent" })), webhookChannel(url, 2000)],
    });

  it("retries a failing webhook with backoff and delivers each notice exactly once", async () => {
    await ingestEvents(headroom, [opened("a1", T0), fraud("a1", "f1", T0 + 1000)]);
    failuresLeft = 2;
    expect(await deliver()).toEqual({ delivered: 0, failed: 1 });
    expect(await deliver()).toEqual({ delivered: 0, failed: 0 }); // not due until the backoff passes
    clock.set(clock.now() + backoffMs(1));
    expect(await deliver()).toEqual({ delivered: 0, failed: 1 });
    clock.set(clock.now() + backoffMs(2));
    expect(await deliver()).toEqual({ delivered: 1, failed: 0 });
    expect(await deliver()).toEqual({ delivered: 0, failed: 0 });
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toMatchObject({
      kind: "line_changed",
      accountId: "a1",
      action: "close",
      toLimit: 0,
    });
    expect(received[0]?.key).toMatch(/^line_changed:dec_/);
    const row = await headroom.store.db.selectFrom("outbox").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "delivered", attempts: 3 });
  });

  it("parks a notice as failed after the maximum attempts", async () => {
    await ingestEvents(headroom, [opened("a1", T0), fraud("a1", "f1", T0 + 1000)]);
    failuresLeft = Number.POSITIVE_INFINITY;
    for (let i = 1; i <= MAX_DELIVERY_ATTEMPTS; i++) {
      expect((await deliver()).failed).toBe(1);
      clock.set(clock.now() + backoffMs(i));
    }
    expect(await deliver()).toEqual({ delivered: 0, failed: 0 });
    const row = await headroom.store.db.selectFrom("outbox").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: "failed",
      attempts: MAX_DELIVERY_ATTEMPTS,
      last_error: expect.stringContaining("503"),
    });
  });
});
