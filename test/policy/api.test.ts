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
      payload: { policy },
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
    const none = await inject({ method: "POST", url: "/v1/simulations", payload: {} });
    expect(none.statusCode).toBe(422);
    expect(none.json().detail).toContain("/body/policy");
    const unknown = await inject({
      method: "POST",
      url: "/v1/simulations",
      payload: { model: "no-such-model" },
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
    // Each step is recorded as the principal who called it; names in the body have no effect.
    const analyst = await injectAs(app, headroom, "analyst");
    const approver = await injectAs(app, headroom, "approver");
    const whoIs = async (caller: Inject) =>
      (await caller({ method: "GET", url: "/v1/session" })).json().principal as string;
    const [analystId, approverId, adminId] = [
      await whoIs(analyst),
      await whoIs(approver),
      await whoIs(inject),
    ];

    const refused = await analyst({ method: "POST", url: "/v1/policies", payload: { yaml: GAPPED } });
    expect(refused.statusCode).toBe(422);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.json().detail).toContain("tier-gap");

    const first = await analyst({
      method: "POST",
      url: "/v1/policies",
      payload: { yaml: V1, author: "bob" },
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ version: "policy-1", author: analystId });
    // The admin may import and approve, but never both for one version, whatever name it sends.
    const second = await inject({ method: "POST", url: "/v1/policies", payload: { yaml: V2 } });
    expect(second.json()).toMatchObject({ version: "policy-2", author: adminId });
    await simulated("policy-2");
    const self = await inject({
      method: "POST",
      url: "/v1/policies/policy-2/approve",
      payload: { by: "someone-else" },
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().detail).toContain(`${adminId} wrote policy-2 and cannot also approve it`);
    const early = await approver({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-2" },
    });
    expect(early.statusCode).toBe(403);
    const unsimulated = await approver({ method: "POST", url: "/v1/policies/policy-1/approve" });
    expect(unsimulated.statusCode).toBe(409);
    expect(unsimulated.headers["content-type"]).toContain("application/problem+json");
    expect(unsimulated.json()).toMatchObject({ title: "Simulation required" });
    await simulated("policy-1");
    for (const v of ["policy-1", "policy-2"]) {
      const ok = await approver({
        method: "POST",
        url: `/v1/policies/${v}/approve`,
        payload: { by: analystId },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ version: v, status: "approved", approvedBy: approverId });
    }
    const missing = await approver({ method: "POST", url: "/v1/policies/nope/approve" });
    expect(missing.statusCode).toBe(404);

    await approver({ method: "POST", url: "/v1/policies/activate", payload: { champion: "policy-1" } });
    const active = await approver({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-2", challenger: "policy-1", challengerShare: 0.25, by: "carol" },
    });
    expect(active.json()).toMatchObject({
      champion: "policy-2",
      challenger: "policy-1",
      challengerShare: 0.25,
      activatedBy: approverId,
    });
    expect(headroom.engine.policy.version).toBe("policy-2");
    expect(headroom.engine.challenger?.share).toBe(0.25);
    const rolled = await approver({ method: "POST", url: "/v1/policies/rollback", payload: { by: "dave" } });
    expect(rolled.json()).toMatchObject({ champion: "policy-1", challenger: null, activatedBy: approverId });
    expect(headroom.engine.policy.version).toBe("policy-1");
    const list = await inject({ method: "GET", url: "/v1/policies" });
    expect(list.json().versions.map((v: { status: string }) => v.status)).toEqual(["approved", "approved"]);
    const badShare = await approver({
      method: "POST",
      url: "/v1/policies/activate",
      payload: { champion: "policy-1", challengerShare: 2 },
    });
    expect(badShare.statusCode).toBe(400);
    expect(badShare.json().errors[0].pointer).toBe("/body/challengerShare");
  });
});
