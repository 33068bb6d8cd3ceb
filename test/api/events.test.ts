import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { inquiry, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;

describe("HTTP API", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let inject: Inject;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(T0 + 60 * DAY).now);
    app = await buildServer(headroom);
    inject = await injectAs(app, headroom);
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  const post = (events: unknown[]) => inject({ method: "POST", url: "/v1/events", payload: { events } });

  it("refuses a batch with an invalid event whole, naming each invalid field as problem+json", async () => {
    const bad = { ...inquiry("a1", "q1", T0 + DAY), occurredAt: "yesterday" };
    const response = await post([opened("a1", T0), bad, { ...opened("a2", T0), data: { region: "mars" } }]);
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toContain("application/problem+json");
    const problem = response.json();
    expect(problem).toMatchObject({ status: 400, title: "Invalid request" });
    const pointers = problem.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain("/body/events/1/occurredAt");
    expect(pointers).toContain("/body/events/2/data/region");
    const accounts = await inject({ method: "GET", url: "/v1/accounts" });
    expect(accounts.json().accounts).toEqual([]);
  });

  it("takes a valid batch, reports a replay as duplicates, and serves the account with its decisions", async () => {
    const batch = [
      opened("a1", T0),
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => inquiry("a1", `q${i}`, T0 + 40 * DAY + i)),
    ];
    const first = await post(batch);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ accepted: 9, duplicates: 0, rejected: 0, decisions: 8 });
    const replay = await post(batch);
    expect(replay.json()).toMatchObject({ accepted: 0, duplicates: 9, decisions: 0 });

    const account = (await inject({ method: "GET", url: "/v1/accounts/a1" })).json();
    expect(account).toMatchObject({ accountId: "a1", status: "ACTIVE", limit: 2_000_000 });
    expect(account.features.inquiries30d).toBe(8);
    const decisions = (await inject({ method: "GET", url: "/v1/accounts/a1/decisions?limit=20" })).json()
      .decisions;
    expect(decisions).toHaveLength(8);
    const record = (await inject({ method: "GET", url: `/v1/decisions/${decisions[0].decisionId}` })).json();
    expect(record.input.features.inquiries30d).toBeGreaterThan(0);
    expect(record.output.trace.ruleMasks).toHaveLength(headroom.engine.policy.rules.length);
    expect(record).toMatchObject({
      policyVersion: headroom.engine.policy.version,
      modelVersion: headroom.engine.model.version,
    });
  });

  it("answers unknown routes and objects, bad queries and oversized bodies with problem+json 4xx", async () => {
    const missing = await inject({ method: "GET", url: "/v1/accounts/nope" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ title: "Not Found", detail: "account nope does not exist" });
    expect((await inject({ method: "GET", url: "/v1/nothing" })).statusCode).toBe(404);
    const badQuery = await inject({ method: "GET", url: "/v1/accounts?limit=100000" });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().errors[0].pointer).toBe("/querystring/limit");
    const tooMany = await post(Array.from({ length: 1001 }, (_, i) => inquiry("a1", `q${i}`, T0)));
    expect(tooMany.statusCode).toBe(400);
    const huge = await inject({
      method: "POST",
      url: "/v1/events",
      headers: { "content-type": "application/json" },
      payload: `{"events":[${"1,".repeat(1_100_000)}1]}`,
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers["content-type"]).toContain("application/problem+json");
    const notJson = await inject({
      method: "POST",
      url: "/v1/events",
      headers: { "content-type": "application/json" },
      payload: "{",
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().status).toBe(400);
  });

  it("publishes an OpenAPI document with every route", async () => {
    const doc = (await inject({ method: "GET", url: "/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/events",
        "/v1/accounts",
        "/v1/accounts/{accountId}",
        "/v1/decisions/{decisionId}",
        "/v1/audit/verify",
      ]),
    );
  });
});
