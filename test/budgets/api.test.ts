import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

describe("budget and risk measure routes", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let inject: Inject;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(T0 + 60 * DAY).now);
    app = await buildServer(headroom);
    inject = await injectAs(app, headroom);
    await inject({
      method: "POST",
      url: "/v1/events",
      payload: {
        events: [
          opened("w1", T0, { region: "west", declaredMonthlyIncome: 3_000_000, initialLimit: 5_000_000 }),
        ],
      },
    });
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  it("sets a regional factor and the stress multiplier, refusing bad ones as problem+json naming the field", async () => {
    const region = await inject({
      method: "PUT",
      url: "/v1/risk-measures/regions/mars",
      payload: { factor: 0.8, reason: "r" },
    });
    expect(region.statusCode).toBe(400);
    expect(region.json().errors).toContainEqual(expect.objectContaining({ pointer: "/params/region" }));
    const stress = await inject({
      method: "PUT",
      url: "/v1/risk-measures/stress",
      payload: { multiplier: 2, reason: "r" },
    });
    expect(stress.statusCode).toBe(400);
    expect(stress.json().errors).toContainEqual(expect.objectContaining({ pointer: "/body/multiplier" }));

    const west = await inject({
      method: "PUT",
      url: "/v1/risk-measures/regions/west",
      payload: { factor: 0.8, actor: "analyst-1", reason: "regional downturn" },
    });
    expect(west.statusCode).toBe(200);
    expect(west.json()).toMatchObject({ reviewed: 1, changed: 1 });
    const current = (await inject({ method: "GET", url: "/v1/risk-measures" })).json();
    expect(current).toMatchObject({ regions: { west: 0.8 }, stress: 1 });
    // The setting is recorded as the caller, not as the name the client sent.
    const caller = (await inject({ method: "GET", url: "/v1/session" })).json().principal;
    expect(current.history).toEqual([
      expect.objectContaining({
        kind: "region",
        region: "west",
        factor: 0.8,
        actor: caller,
        reason: "regional downturn",
      }),
    ]);
  });

  it("removes a budget with who and why, and answers 404 for one that does not exist", async () => {
    const set = await inject({
      method: "PUT",
      url: "/v1/budgets",
      payload: {
        scope: "segment",
        value: "salaried",
        measure: "balance",
        cap: 1_000,
        reason: "r",
      },
    });
    expect(set.json()).toMatchObject({ id: "segment:salaried:balance", used: 0, room: 1_000 });
    const removed = await inject({
      method: "DELETE",
      url: "/v1/budgets/segment:salaried:balance?reason=lifted",
    });
    expect(removed.statusCode).toBe(204);
    const caller = (await inject({ method: "GET", url: "/v1/session" })).json().principal;
    const changes = await headroom.store.db
      .selectFrom("budget_changes")
      .select(["action", "actor", "reason"])
      .orderBy("action", "desc")
      .execute();
    expect(changes).toEqual([
      { action: "set", actor: caller, reason: "r" },
      { action: "remove", actor: caller, reason: "lifted" },
    ]);
    expect((await inject({ method: "GET", url: "/v1/budgets" })).json()).toEqual({ budgets: [] });
    const again = await inject({
      method: "DELETE",
      url: "/v1/budgets/segment:salaried:balance?reason=x",
    });
    expect(again.statusCode).toBe(404);
    expect(again.headers["content-type"]).toContain("application/problem+json");
    const queue = await inject({ method: "GET", url: "/v1/budgets/queue?status=waiting" });
    expect(queue.json()).toEqual({ entries: [] });
  });
});
