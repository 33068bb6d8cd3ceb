import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const V1 = readFileSync(DEFAULT_POLICY_PATH, "utf8");
const V2 = V1.replace("version: policy-1", "version: policy-2");
const GAPPED = readFileSync(new URL("./fixtures/gap-overlap.yaml", import.meta.url), "utf8");

describe("policy API", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let inject: Inject;
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(Date.UTC(2026, 0, 5)).now);
    app = await buildServer(headroom);
    inject = await injectAs(app, headroom);
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  it("checks a document, naming the rows and lines of a planted gap and overlap", async () => {
    const response = await inject({
      method: "POST",
      url: "/v1/policies/check",
      payload: { yaml: GAPPED },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.ok).toBe(false);
    expect(body.findings.map((f: { kind: string }) => f.kind).sort()).toEqual(["tier-gap", "tier-overlap"]);
    expect(body.findings.find((f: { kind: string }) => f.kind === "tier-overlap")).toMatchObject({
      rows: ["C", "D"],
      lines: [19, 23],
    });
    const broken = await inject({
      method: "POST",
      url: "/v1/policies/check",
      payload: { yaml: "version: [" },
    });
    expect(broken.json().problems[0]).toMatchObject({ line: 1 });
  });

  it("runs the lifecycle with problem+json refusals and puts the activated version in force at once", async () => {
    const refused = await inject({
      method: "POST",
      url: "/v1/policies",
      payload: { yaml: GAPPED, author: "alice" },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.json().detail).toContain("tier-gap");

    for (const yaml of [V1, V2]) {
      const created = await inject({
        method: "POST",
        url: "/v1/policies",
        payload: { yaml, author: "alice" },
      });
      expect(created.statusCode).toBe(201);
    }
    const self = await inject({
      method: "POST",
      url: "/v1/policies/policy-2/approve",
      payload: { by: "alice" },
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().detail).toContain("cannot also approve");
    const early = await inject({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-2", by: "carol" },
    });
    expect(early.statusCode).toBe(403);
    for (const v of ["policy-1", "policy-2"]) {
      const ok = await inject({
        method: "POST",
        url: `/v1/policies/${v}/approve`,
        payload: { by: "bob" },
      });
      expect(ok.statusCode).toBe(200);
    }
    const missing = await inject({
      method: "POST",
      url: "/v1/policies/nope/approve",
      payload: { by: "bob" },
    });
    expect(missing.statusCode).toBe(404);

    await inject({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-1", by: "carol" },
    });
    const active = await inject({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-2", challenger: "policy-1", challengerShare: 0.25, by: "carol" },
    });
    expect(active.json()).toMatchObject({
      champion: "policy-2",
      challenger: "policy-1",
      challengerShare: 0.25,
    });
    expect(headroom.engine.policy.version).toBe("policy-2");
    expect(headroom.engine.challenger?.share).toBe(0.25);
    const rolled = await inject({
      method: "POST",
      url: "/v1/policies/rollback",
      payload: { by: "dave" },
    });
    expect(rolled.json()).toMatchObject({ champion: "policy-1", challenger: null });
    expect(headroom.engine.policy.version).toBe("policy-1");
    const list = await inject({ method: "GET", url: "/v1/policies" });
    expect(list.json().versions.map((v: { status: string }) => v.status)).toEqual(["approved", "approved"]);
    const badShare = await inject({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-1", challengerShare: 2, by: "carol" },
    });
    expect(badShare.statusCode).toBe(400);
    expect(badShare.json().errors[0].pointer).toBe("/body/challengerShare");
  });
});
