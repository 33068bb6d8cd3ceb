import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { FastifyInstance, InjectOptions } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { ROLES } from "../../src/services/access.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import { keyHeader } from "../support/auth.ts";
import { drawdown, due, inquiry, iso, opened, repaid } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 200 * DAY;
const RUNS = 10_000;

interface Route {
  method: string;
  path: string;
  queryNames: string[];
  bodyNames: string[];
}

function book(): CreditEvent[] {
  return [
    opened("f1", T0, { borrowerId: "fb1" }),
    opened("f2", T0, { borrowerId: "fb2", region: "north" }),
    drawdown("f1", "fd1", T0 + DAY, 300_000),
    due("f1", "fu1", T0 + 30 * DAY, T0 + 40 * DAY, 40_000),
    repaid("f1", "fr1", T0 + 39 * DAY, 40_000, "fu1-due"),
    due("f2", "fu2", T0 + 150 * DAY, T0 + 160 * DAY, 40_000),
    ...[0, 1, 2, 3, 4, 5, 6].map((i) => inquiry("f2", `fq${i}`, T0 + (170 + i) * DAY)),
  ];
}

/** A valid body per route with one, so mutations start from something the server accepts. */
function seedBodies(): Record<string, Record<string, unknown>> {
  return {
    "POST /v1/events": { events: [inquiry("f1", "seed-q", NOW - DAY)] },
    "POST /v1/accounts/:accountId/decisions": { requestId: "fuzz-1" },
    "POST /v1/accounts/:accountId/appeals": {
      decisionId: "dec_x",
      statement: "My income went up last month.",
      requestId: "fuzz-appeal",
      evidence: [
        { kind: "income_proof", filename: "p.pdf", contentType: "application/pdf", content: "JVBERi0xLjQK" },
      ],
    },
    "POST /v1/appeals/:appealId/decision": {
      outcome: "adjust",
      reason: "checked",
      limit: 100,
    },
    "PUT /v1/accounts/:accountId/automated-decisions": { optOut: true },
    "POST /v1/policies/check": { yaml: readFileSync(DEFAULT_POLICY_PATH, "utf8") },
    "POST /v1/policies": { yaml: "version: x\n" },
    "POST /v1/policies/activate": { champion: "policy-1" },
    "POST /v1/hardship-programs": {
      id: "fuzz-prog",
      name: "Relief",
      relief: { kind: "payment_holiday", months: 2 },
      region: "east",
      startsAt: iso(NOW - DAY),
      endsAt: iso(NOW + 30 * DAY),
      reason: "storm",
    },
    "POST /v1/accounts/:accountId/hardship-offers/:programId": { accept: true },
    "POST /v1/accounts/:accountId/drawdown-quote": { amount: 100_000, termMonths: 6 },
    "POST /v1/session": { username: "admin", password: "not-the-password" },
    "POST /v1/api-keys": { name: "fuzz", role: "auditor" },
    "PUT /v1/borrowers/:borrowerId/personal-data": {
      name: "王芳",
      phone: "13912345678",
      idNumber: "110105198001011234",
      bankAccount: null,
    },
    "PUT /v1/users/:username": { password: "a long enough password", role: "auditor" },
  };
}

const weird = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "",
    "..",
    "%00",
    "%2F..%2F",
    "null",
    "-1",
    "1e309",
    "f1",
    "f2",
    "a".repeat(300),
    "💥",
    "' or 1=1 --",
  ),
);
const jsonish = fc.jsonValue({ maxDepth: 3 });

describe("fuzz: random and mutated requests across every route", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let routes: Route[];
  const headers: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    headroom = await sqliteTarget.open(manualClock(NOW).now);
    app = await buildServer(headroom, { consoleDir: "/nonexistent" });
    for (const role of ROLES)
      headers[role] = await keyHeader(headroom, role, role === "borrower" ? "fb1" : null);
    const ingested = await app.inject({
      method: "POST",
      url: "/v1/events",
      payload: { events: book() },
      headers: headers.integration,
    });
    expect(ingested.statusCode).toBe(200);
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { in: string; name: string }[];
            requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
          }
        >
      >;
    };
    routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{(\w+)\}/g, ":$1"),
        queryNames: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
        bodyNames: Object.keys(op.requestBody?.content["application/json"]?.schema.properties ?? {}),
      })),
    );
  });
  afterAll(async () => {
    await app?.close();
    await headroom?.dispose();
  });

  it(`answers ${RUNS} requests with no 5xx, every refusal problem+json, and the ledger still verifies`, async () => {
    const seeds = seedBodies();
    const request = fc
      .record({
        route: fc.integer({ min: 0, max: 10_000 }),
        params: fc.array(weird, { minLength: 3, maxLength: 3 }),
        query: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constant("limit")), weird, {
          maxKeys: 3,
        }),
        who: fc.oneof(
          { weight: 6, arbitrary: fc.constant("admin") },
          { weight: 3, arbitrary: fc.constantFrom(...ROLES, "none", "forged") },
        ),
        body: fc.oneof(
          // mutate a valid body: one field to anything, or drop it, or add a stranger
          fc.record({
            kind: fc.constant("mutate" as const),
            field: fc.nat(),
            value: jsonish,
            drop: fc.boolean(),
          }),
          fc.record({ kind: fc.constant("json" as const), value: jsonish }),
          fc.record({ kind: fc.constant("raw" as const), value: fc.string({ maxLength: 200 }) }),
          fc.record({ kind: fc.constant("valid" as const) }),
        ),
        contentType: fc.constantFrom(
          "application/json",
          "application/json",
          "text/plain",
          "application/x-www-form-urlencoded",
        ),
      })
      .map((r) => {
        const route = routes[r.route % routes.length] as Route;
        let i = 0;
        const url = route.path.replace(/:(\w+)/g, () => encodeURIComponent(r.params[i++] ?? ""));
        const search = new URLSearchParams(r.query).toString();
        const key = `${route.method} ${route.path}`;
        const seed = seeds[key];
        let payload: unknown;
        if (r.body.kind === "raw") payload = r.body.value;
        else if (r.body.kind === "json") payload = JSON.stringify(r.body.value);
        else if (seed !== undefined) {
          const body: Record<string, unknown> = structuredClone(seed);
          if (r.body.kind === "mutate") {
            const names = [...route.bodyNames, "status", "limit"];
            const field = names[r.body.field % names.length] as string;
            if (r.body.drop) delete body[field];
            else body[field] = r.body.value;
          }
          payload = JSON.stringify(body);
        }
        const auth =
          r.who === "none"
            ? {}
            : r.who === "forged"
              ? { authorization: "Bearer hrk_forged" }
              : headers[r.who];
        const options: InjectOptions = {
          method: route.method as "GET",
          url: search === "" ? url : `${url}?${search}`,
          headers: { ...auth, ...(payload === undefined ? {} : { "content-type": r.contentType }) },
          ...(payload === undefined || route.method === "GET" ? {} : { payload: payload as string }),
        };
        return options;
      });

    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (options) => {
        const response = await app.inject(options);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const answer = `${response.statusCode} ${response.headers["content-type"]} ${response.body.slice(0, 300)}`;
        if (response.statusCode >= 500) throw new Error(`server error: ${answer}`);
        if (response.statusCode >= 400) {
          if (!String(response.headers["content-type"]).startsWith("application/problem+json"))
            throw new Error(`refusal is not problem+json: ${answer}`);
          const problem = response.json() as { status: number; title: string; detail: string };
          if (problem.status !== response.statusCode || problem.title === "" || problem.detail === "")
            throw new Error(`incomplete problem: ${answer}`);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.HEADROOM_FUZZ_SEED ?? 20_261_125), endOnFailure: true },
    );
    console.log(
      `fuzz statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(RUNS);
    // The fuzz reached handlers, not only the access check and the validator.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    const report = await verifyLedger(headroom.store);
    expect(report.problems).toEqual([]);
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(
      headroom.store.db,
    );
    expect(integrity.rows[0]?.integrity_check).toBe("ok");
  }, 120_000);
});
