import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessRule } from "../../src/api/access.ts";
import { buildServer } from "../../src/api/server.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { ROLES, type Role, upsertUser } from "../../src/services/access.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { due, inquiry, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 200 * DAY;

/** Borrower B's account with an adverse decision and an appeal against it; borrower A's bare account. */
function book(): CreditEvent[] {
  const events: CreditEvent[] = [
    opened("acc-a", T0, { borrowerId: "borrower-a" }),
    opened("acc-b", T0, { borrowerId: "borrower-b" }),
    due("acc-b", "u1", T0 + 150 * DAY, T0 + 160 * DAY, 40_000),
  ];
  for (let i = 0; i < 7; i++) events.push(inquiry("acc-b", `q${i}`, T0 + (170 + i) * DAY));
  return events;
}

describe("authorization matrix: every route in /openapi.json against every role", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let as: Record<Role, Inject>;
  let asBorrowerB: Inject;
  const objects: Record<string, string> = {};

  beforeAll(async () => {
    headroom = await sqliteTarget.open(manualClock(NOW).now);
    app = await buildServer(headroom, { consoleDir: "/nonexistent" });
    const entries = await Promise.all(
      ROLES.map(async (role) => [
        role,
        await injectAs(app, headroom, role, role === "borrower" ? "borrower-a" : null),
      ]),
    );
    as = Object.fromEntries(entries) as Record<Role, Inject>;
    asBorrowerB = await injectAs(app, headroom, "borrower", "borrower-b");
    const ingested = await as.integration({ method: "POST", url: "/v1/events", payload: { events: book() } });
    expect(ingested.statusCode, ingested.body).toBe(200);
    const decisions = (
      await as.admin({ method: "GET", url: "/v1/accounts/acc-b/decisions?changesOnly=true" })
    ).json().decisions as { decisionId: string; adverse: boolean }[];
    const adverse = decisions.find((d) => d.adverse);
    expect(adverse, "the book gives borrower B an adverse decision").toBeDefined();
    const appeal = await asBorrowerB({
      method: "POST",
      url: "/v1/accounts/acc-b/appeals",
      payload: {
        decisionId: adverse?.decisionId,
        statement: "My income went up last month.",
        requestId: "r1",
      },
    });
    expect(appeal.statusCode, appeal.body).toBe(201);
    Object.assign(objects, {
      accountId: "acc-b",
      decisionId: adverse?.decisionId as string,
      appealId: appeal.json().appealId as string,
    });
  });
  afterAll(async () => {
    await app?.close();
    await headroom?.dispose();
  });

  async function routes(): Promise<
    { method: string; path: string; url: string; rule: AccessRule | undefined }[]
  > {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const list = [];
    for (const [openapiPath, methods] of Object.entries(doc.paths)) {
      const path = openapiPath.replace(/\{(\w+)\}/g, ":$1");
      const url = path.replace(/:(\w+)/g, (_, name: string) => objects[name] ?? "x");
      for (const method of Object.keys(methods)) {
        const upper = method.toUpperCase();
        list.push({ method: upper, path, url, rule: app.accessRules.get(`${upper} ${path}`) });
      }
    }
    return list;
  }

  it("finds a declared access rule on every route (a new route without one fails here, by name)", async () => {
    const all = await routes();
    expect(all.length).toBeGreaterThan(40);
    expect(all.filter((r) => r.rule === undefined).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("fails closed on a route added without a rule, and the rule check names it", async () => {
    const extra = await buildServer(headroom, { consoleDir: "/nonexistent" });
    extra.get("/v1/unruled", { schema: { summary: "a route someone forgot to protect" } }, async () => ({}));
    const admin = await injectAs(extra, headroom);
    const response = await admin({ method: "GET", url: "/v1/unruled" });
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toBe("this route has no access rule");
    const doc = (await extra.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: object };
    expect(Object.keys(doc.paths)).toContain("/v1/unruled");
    expect(extra.accessRules.has("GET /v1/unruled")).toBe(true);
    expect(extra.accessRules.get("GET /v1/unruled")).toBeUndefined();
    await extra.close();
  });

  it("refuses every role on every route and object it must not reach, as problem+json", async () => {
    const leaks: string[] = [];
    const refuse = (
      name: string,
      response: { statusCode: number; headers: Record<string, unknown> },
      want: number,
    ) => {
      if (response.statusCode !== want || !String(response.headers["content-type"]).includes("problem+json"))
        leaks.push(`${name}: got ${response.statusCode}, want ${want}`);
    };
    let checked = 0;
    for (const { method, path, url, rule } of await routes()) {
      if (rule === "public" || rule === undefined) continue;
      const request = { method: method as "GET", url };
      refuse(`anonymous ${method} ${path}`, await app.inject(request), 401);
      refuse(
        `bad key ${method} ${path}`,
        await app.inject({ ...request, headers: { authorization: "Bearer hrk_forged" } }),
        401,
      );
      checked += 2;
      if (rule === "authenticated") continue;
      for (const role of ROLES) {
        if (role === "admin") continue;
        if (role === "borrower") {
          // Borrower A against borrower B's objects: indistinguishable from a missing object.
          refuse(
            `borrower A ${method} ${path}`,
            await as.borrower(request),
            rule.borrower === undefined ? 403 : 404,
          );
          checked++;
        } else if (!rule.roles.includes(role)) {
          refuse(`${role} ${method} ${path}`, await as[role](request), 403);
          checked++;
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });

  it("lets each allowed role through, and a borrower to their own objects", async () => {
    const blocked: string[] = [];
    for (const { method, path, url, rule } of await routes()) {
      if (rule === "public" || rule === undefined) continue;
      const allowed: Inject[] = [as.admin];
      if (rule === "authenticated") allowed.push(...ROLES.map((r) => as[r]));
      else {
        allowed.push(...rule.roles.map((r) => as[r]));
        if (rule.borrower !== undefined) allowed.push(asBorrowerB);
      }
      for (const inject of allowed) {
        const response = await inject({ method: method as "GET", url });
        if (response.statusCode === 401 || response.statusCode === 403) blocked.push(`${method} ${path}`);
      }
    }
    expect(blocked).toEqual([]);
    expect((await asBorrowerB({ method: "GET", url: "/v1/accounts/acc-b" })).statusCode).toBe(200);
    expect(
      (await asBorrowerB({ method: "GET", url: `/v1/decisions/${objects.decisionId}` })).statusCode,
    ).toBe(200);
    expect((await asBorrowerB({ method: "GET", url: `/v1/appeals/${objects.appealId}` })).statusCode).toBe(
      200,
    );
  });

  it("keeps server-owned fields out of clients' hands: extra fields are ignored, not applied", async () => {
    const before = (await as.admin({ method: "GET", url: "/v1/accounts/acc-a" })).json();
    const optOut = await as.admin({
      method: "PUT",
      url: "/v1/accounts/acc-a/automated-decisions",
      payload: { optOut: true, limit: 99_999_999, status: "ACTIVE", borrowerId: "borrower-b" },
    });
    expect(optOut.statusCode).toBe(200);
    const after = (await as.admin({ method: "GET", url: "/v1/accounts/acc-a" })).json();
    expect(after).toMatchObject({ limit: before.limit, status: before.status, borrowerId: "borrower-a" });
  });

  it("seals every write a principal makes in the ledger: who, which route, which object", async () => {
    const response = await as.reviewer({
      method: "POST",
      url: `/v1/appeals/${objects.appealId}/decision`,
      payload: { reviewer: "someone-else", outcome: "uphold", reason: "The missed instalment stands." },
    });
    expect(response.statusCode, response.body).toBe(200);
    const action = await headroom.store.db
      .selectFrom("api_actions")
      .selectAll()
      .where("route", "=", "/v1/appeals/:appealId/decision")
      .executeTakeFirstOrThrow();
    expect(action).toMatchObject({ role: "reviewer", method: "POST", status: 200 });
    expect(action.principal).toMatch(/^key:key_/);
    // The outcome names the caller as its reviewer, not the name the client sent.
    expect(response.json().reviewer).toBe(action.principal);
    expect(JSON.parse(action.params)).toEqual({ appealId: objects.appealId });
    const sealed = await headroom.store.db
      .selectFrom("ledger")
      .selectAll()
      .where("ref_id", "=", action.id)
      .execute();
    expect(sealed.map((r) => r.kind)).toEqual(["api_action"]);
    expect((await verifyLedger(headroom.store)).problems).toEqual([]);
    // Reads and refusals are not actions.
    expect((await as.auditor({ method: "POST", url: "/v1/policies/rollback" })).statusCode).toBe(403);
    const refused = await headroom.store.db
      .selectFrom("api_actions")
      .selectAll()
      .where("role", "=", "auditor")
      .where("route", "=", "/v1/policies/rollback")
      .execute();
    expect(refused).toEqual([]);
    // Rewriting who did it is caught.
    await headroom.store.db
      .updateTable("api_actions")
      .set({ principal: "key:someone-else" })
      .where("id", "=", action.id)
      .execute();
    expect((await verifyLedger(headroom.store)).problems).toContainEqual(
      expect.objectContaining({
        refId: action.id,
        problem: `API action ${action.id} was edited after it was sealed`,
      }),
    );
    await headroom.store.db
      .updateTable("api_actions")
      .set({ principal: action.principal })
      .where("id", "=", action.id)
      .execute();
  });

  it("commits a batch of events and the record of who sent it in one transaction, one seal apart", async () => {
    const before = await headroom.store.db.selectFrom("api_actions").select("id").execute();
    const sent = await as.integration({
      method: "POST",
      url: "/v1/events",
      payload: {
        events: [
          {
            id: "login-sealed",
            accountId: "acc-a",
            type: "login",
            occurredAt: new Date(T0 + 2 * DAY).toISOString(),
            data: { deviceId: "d1", anomalous: false },
          },
        ],
      },
    });
    expect(sent.statusCode, sent.body).toBe(200);
    const actions = await headroom.store.db
      .selectFrom("api_actions")
      .selectAll()
      .where(
        "id",
        "not in",
        before.map((a) => a.id),
      )
      .execute();
    expect(actions).toMatchObject([
      { role: "integration", method: "POST", route: "/v1/events", status: 200 },
    ]);
    const seal = await headroom.store.db
      .selectFrom("ledger")
      .selectAll()
      .where("ref_id", "=", actions[0]?.id ?? "")
      .executeTakeFirstOrThrow();
    const event = await headroom.store.db
      .selectFrom("events")
      .select("recorded_at")
      .where("event_id", "=", "login-sealed")
      .executeTakeFirstOrThrow();
    expect(seal.recorded_at).toBe(event.recorded_at);
    // A refused batch is not an action.
    const refused = await as.integration({
      method: "POST",
      url: "/v1/events",
      payload: { events: [{ id: "x" }] },
    });
    expect(refused.statusCode).toBe(400);
    expect(await headroom.store.db.selectFrom("api_actions").select("id").execute()).toHaveLength(
      before.length + 1,
    );
    expect((await verifyLedger(headroom.store)).problems).toEqual([]);
  });

  it("signs console users in with a session cookie, and out again", async () => {
    await upsertUser(
      headroom.store,
      { username: "rita", password: "correct horse battery", role: "reviewer" },
      NOW,
    );
    const huge = await app.inject({
      method: "POST",
      url: "/v1/session",
      payload: { username: "rita", password: "x".repeat(10_000) },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers["content-type"]).toContain("application/problem+json");
    const wrong = await app.inject({
      method: "POST",
      url: "/v1/session",
      payload: { username: "rita", password: "wrong password!" },
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await app.inject({
      method: "POST",
      url: "/v1/session",
      payload: { username: "rita", password: "correct horse battery" },
    });
    expect(ok.json()).toMatchObject({ principal: "user:rita", role: "reviewer" });
    const cookie = String(ok.headers["set-cookie"]).split(";")[0] as string;
    expect(String(ok.headers["set-cookie"])).toContain("HttpOnly");
    expect((await app.inject({ method: "GET", url: "/v1/appeals", headers: { cookie } })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ method: "GET", url: "/v1/policies", headers: { cookie } })).statusCode).toBe(
      200,
    );
    expect(
      (await app.inject({ method: "POST", url: "/v1/policies/activate", headers: { cookie } })).statusCode,
    ).toBe(403);
    expect((await app.inject({ method: "DELETE", url: "/v1/session", headers: { cookie } })).statusCode).toBe(
      204,
    );
    expect((await app.inject({ method: "GET", url: "/v1/appeals", headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  it("stops honouring a revoked API key", async () => {
    const created = await as.admin({
      method: "POST",
      url: "/v1/api-keys",
      payload: { name: "feed", role: "integration" },
    });
    expect(created.statusCode).toBe(201);
    const { keyId, secret } = created.json();
    const headers = { authorization: `Bearer ${secret}` };
    expect(
      (await app.inject({ method: "POST", url: "/v1/events", payload: { events: [] }, headers })).statusCode,
    ).not.toBe(401);
    const listed = (await as.admin({ method: "GET", url: "/v1/api-keys" })).body;
    expect(listed).not.toContain(secret);
    expect((await as.admin({ method: "DELETE", url: `/v1/api-keys/${keyId}` })).statusCode).toBe(204);
    expect(
      (await app.inject({ method: "POST", url: "/v1/events", payload: { events: [] }, headers })).statusCode,
    ).toBe(401);
  });
});
