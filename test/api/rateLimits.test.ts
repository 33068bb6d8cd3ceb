import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, rateLimitsFromEnv } from "../../src/api/rateLimits.ts";
import { buildServer } from "../../src/api/server.ts";
import { upsertUser } from "../../src/services/access.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { injectAs } from "../support/auth.ts";
import { opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);

describe("rate limits on sensitive flows", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(T0 + 86_400_000).now);
    await ingestEvents(headroom, [
      opened("r1", T0, { borrowerId: "rb" }),
      opened("r2", T0, { borrowerId: "rb" }),
      opened("r3", T0, { borrowerId: "rc" }),
      opened("r4", T0, { borrowerId: "rd" }),
    ]);
    app = await buildServer(headroom, {
      consoleDir: "/nonexistent",
      rateLimits: { perCaller: 3, perBorrower: 2, windowMs: 60_000 },
    });
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  const appeal = (requestId: string, accountId = "r1") => ({
    method: "POST" as const,
    url: `/v1/accounts/${accountId}/appeals`,
    payload: { decisionId: "dec_none", statement: "Please look at this again.", requestId },
  });

  it("limits appeals per borrower across all of that borrower's keys, answering 429 problem+json", async () => {
    const phone = await injectAs(app, headroom, "borrower", "rb");
    const web = await injectAs(app, headroom, "borrower", "rb");
    // Refused appeals (no such decision) still spend the allowance: the flow is what is limited.
    expect((await phone(appeal("a1"))).statusCode).toBe(404);
    expect((await web(appeal("a2", "r2"))).statusCode).toBe(404);
    const third = await web(appeal("a3"));
    expect(third.statusCode).toBe(429);
    expect(third.headers["content-type"]).toContain("application/problem+json");
    expect(third.headers["retry-after"]).toBeDefined();
    expect(third.json().detail).toContain("borrower rb");
    // Another borrower is not held back by rb's limit.
    expect((await (await injectAs(app, headroom, "borrower", "rc"))(appeal("c1", "r3"))).statusCode).toBe(
      404,
    );
  });

  it("limits one caller across borrowers, and malformed requests do not count", async () => {
    const analyst = await injectAs(app, headroom, "analyst");
    const redecide = (accountId: string, requestId: string) =>
      analyst({
        method: "POST",
        url: `/v1/accounts/${accountId}/decisions`,
        payload: { requestId },
      });
    expect(
      (await analyst({ method: "POST", url: "/v1/accounts/r1/decisions", payload: {} })).statusCode,
    ).toBe(400);
    expect((await redecide("r1", "x1")).statusCode).toBe(200);
    expect((await redecide("r3", "x2")).statusCode).toBe(200);
    expect((await redecide("r4", "x3")).statusCode).toBe(200);
    const fourth = await redecide("r4", "x4");
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().detail).toContain("this caller");
  });

  it("limits password guesses per user name", async () => {
    await upsertUser(
      headroom.store,
      { username: "vic", password: "a long enough password", role: "auditor" },
      T0,
    );
    const guess = (password: string) =>
      app.inject({ method: "POST", url: "/v1/session", payload: { username: "vic", password } });
    for (const p of ["guess-1", "guess-2", "guess-3"]) expect((await guess(p)).statusCode).toBe(401);
    expect((await guess("a long enough password")).statusCode).toBe(429);
  });
});

describe("rate limits an operator sets", () => {
  it("reads per-minute limits from the environment and keeps defaults for unset ones", () => {
    expect(rateLimitsFromEnv({})).toEqual(DEFAULT_RATE_LIMITS);
    expect(rateLimitsFromEnv({ HEADROOM_RATE_LIMIT_PER_CALLER: "500" })).toEqual({
      ...DEFAULT_RATE_LIMITS,
      perCaller: 500,
    });
  });

  it("refuses a limit that is not a whole number of requests per minute, naming the variable", () => {
    for (const bad of ["0", "-3", "2.5", "lots", "1e9"])
      expect(() => rateLimitsFromEnv({ HEADROOM_RATE_LIMIT_PER_BORROWER: bad })).toThrow(
        /HEADROOM_RATE_LIMIT_PER_BORROWER must be a whole number/,
      );
  });
});
