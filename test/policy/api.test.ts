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

  /** Runs a simulation of a version through the API as a job and waits for its report. */
  async function simulated(policy: string): Promise<Record<string, unknown>> {
    const started = await inject({
      method: "POST",
      url: "/v1/simulations",
      payload: { policy, by: "alice" },
    });
    expect(started.statusCode).toBe(202);
    const { id, job } = started.json();
    for (;;) {
      const polled = await inject({ method: "GET", url: `/v1/simulations/${id}` });
      if (polled.statusCode === 200) {
        const jobs = await inject({ method: "GET", url: "/v1/jobs" });
        expect(jobs.json().jobs).toContainEqual(expect.objectContaining({ job, done: true }));
        return polled.json().report;
      }
      expect(polled.statusCode).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("refuses simulations naming no candidate or an unknown one, naming the field", async () => {
    const none = await inject({ method: "POST", url: "/v1/simulations", payload: { by: "alice" } });
    expect(none.statusCode).toBe(422);
    expect(none.json().detail).toContain("/body/policy");
    const unknown = await inject({
      method: "POST",
      url: "/v1/simulations",
      payload: { model: "no-such-model", by: "alice" },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toContain("/body/model");
    const missing = await inject({ method: "GET", url: "/v1/simulations/sim_nope" });
    expect(missing.statusCode).toBe(404);
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
    const unsimulated = await inject({
      method: "POST",
      url: "/v1/policies/policy-1/approve",
      payload: { by: "bob" },
    });
    expect(unsimulated.statusCode).toBe(409);
    expect(unsimulated.headers["content-type"]).toContain("application/problem+json");
    expect(unsimulated.json()).toMatchObject({ title: "Simulation required" });
    for (const v of ["policy-1", "policy-2"]) {
      await simulated(v);
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
