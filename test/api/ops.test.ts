import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildOpsServer } from "../../src/api/opsServer.ts";
import { buildServer } from "../../src/api/server.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { injectAs } from "../support/auth.ts";
import { inquiry, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);

/** The value of one sample in Prometheus text format. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("health, readiness and metrics", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(T0 + 86_400_000).now);
    app = await buildServer(headroom);
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  it("counts events by outcome, times each batch and reads the outbox backlog when scraped", async () => {
    const events = [opened("m1", T0), inquiry("m1", "q1", T0 + 1000), inquiry("nobody", "q2", T0 + 1000)];
    const inject = await injectAs(app, headroom, "integration");
    await inject({ method: "POST", url: "/v1/events", payload: { events } });
    await inject({ method: "POST", url: "/v1/events", payload: { events: events.slice(0, 1) } });
    const response = await inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    expect(sample(text, 'headroom_events_total{status="accepted"}')).toBe(2);
    expect(sample(text, 'headroom_events_total{status="rejected"}')).toBe(1);
    expect(sample(text, 'headroom_events_total{status="duplicate"}')).toBe(1);
    expect(sample(text, "headroom_decision_latency_seconds_count")).toBe(2);
    const pending = await headroom.store.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "pending")
      .executeTakeFirstOrThrow();
    expect(sample(text, "headroom_outbox_backlog")).toBe(Number(pending.n));
  });

  it("is ready with every probe answering and 503 problem+json naming the one that does not", async () => {
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.json()).toMatchObject({ status: "ready", store: "sqlite", checks: {} });

    const ops = await buildOpsServer(headroom, [
      { name: "nats", check: async () => "127.0.0.1:4222" },
      { name: "partitions", check: async () => "0,1" },
    ]);
    expect((await ops.inject({ method: "GET", url: "/readyz" })).json().checks).toEqual({
      nats: "127.0.0.1:4222",
      partitions: "0,1",
    });
    await ops.close();

    const failing = await buildOpsServer(headroom, [
      {
        name: "nats",
        check: async () => {
          throw new Error("NATS closed");
        },
      },
    ]);
    const notReady = await failing.inject({ method: "GET", url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.headers["content-type"]).toContain("application/problem+json");
    expect(notReady.json()).toMatchObject({ status: 503, detail: "nats: NATS closed" });
    expect((await failing.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    await failing.close();
  });
});
