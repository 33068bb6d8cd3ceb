import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { parsePolicyYaml } from "../../src/engine/policy/document.ts";
import { seedDemo } from "../../src/services/demo/seedDemo.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import { simulate } from "../../src/services/simulation.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const END = Date.UTC(2026, 5, 30);
const DEFAULT_YAML = readFileSync(DEFAULT_POLICY_PATH, "utf8");
/** Increases wait for six months on book instead of three: the younger lines in good standing lose theirs. */
const RAISED = DEFAULT_YAML.replace("version: policy-1", "version: increase-after-6m").replace(
  '"monthsOnBook >= 3"',
  '"monthsOnBook >= 6"',
);

for (const { target, skip } of await storeTargets("the simulation API tests")) {
  describe.skipIf(skip)(`simulation API on ${target.name} over a seeded demo`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    let app: FastifyInstance;
    let inject: Inject;

    beforeAll(async () => {
      headroom = await target.open(manualClock(END).now);
      await seedDemo(headroom, { borrowers: 150, months: 4, seed: 7, end: END });
      app = await buildServer(headroom, { consoleDir: "/nonexistent" });
      inject = await injectAs(app, headroom, "analyst");
    });
    /** Simulations run as jobs: polls until the report is kept. */
    const reportOf = async (id: string, hits: number) => {
      for (;;) {
        const polled = await inject({ method: "GET", url: `/v1/simulations/${id}?hits=${hits}` });
        if (polled.statusCode === 200) return polled.json();
        expect(polled.statusCode).toBe(202);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    afterAll(async () => {
      await app?.close();
      await headroom?.dispose();
    });

    it("offers the policy in force as the starting point", async () => {
      const response = await inject({ method: "GET", url: "/v1/simulations/baseline" });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ version: "policy-1", yaml: DEFAULT_YAML });
    });

    it("runs a candidate over the book, keeps the report and serves its hits as CSV; the book is untouched", async () => {
      expect(RAISED).toContain('"monthsOnBook >= 6"');
      const before = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();
      const decisions = await headroom.store.db.selectFrom("decisions").select("id").execute();

      const run = await inject({
        method: "POST",
        url: "/v1/simulations",
        payload: { yaml: RAISED, by: "analyst-ann" },
      });
      expect(run.statusCode).toBe(202);
      const body = await reportOf(run.json().id, 5);
      // Run by the calling analyst, whatever name the body carried.
      expect(body.createdBy).toBe((await inject({ method: "GET", url: "/v1/session" })).json().principal);
      expect(body.createdBy).toMatch(/^key:/);
      expect(body.report.candidate.policy).toBe("increase-after-6m");
      expect(body.report.current.policy).toBe("policy-1");

      // The same comparison made directly with the service gives the same report.
      const parsed = parsePolicyYaml(RAISED);
      if (!parsed.ok) throw new Error("fixture does not parse");
      const direct = await simulate(
        headroom.store,
        headroom.engine,
        activeEngine(parsed.policy, headroom.engine.model, headroom.engine.pricing),
        { asOf: END },
      );
      expect(direct.hits.length).toBeGreaterThan(5);
      expect(body.hitCount).toBe(direct.hits.length);
      expect(body.report.hits).toEqual(direct.hits.slice(0, 5));
      expect(body.report.actions).toEqual(direct.actions);
      expect(body.report.exposure).toEqual(direct.exposure);
      expect(body.report.accounts).toBe(before.filter((l) => l.status !== "CLOSED").length);

      const again = await inject({ method: "GET", url: `/v1/simulations/${body.id}?hits=100000` });
      expect(again.statusCode).toBe(200);
      expect(again.json().report.hits).toEqual(direct.hits);

      const csv = await inject({ method: "GET", url: `/v1/simulations/${body.id}/hits?format=csv` });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers["content-type"]).toContain("text/csv");
      const rows = csv.body.trim().split("\n");
      expect(rows).toHaveLength(direct.hits.length + 1);
      expect(rows[1]?.split(",")[0]).toBe(direct.hits[0]?.accountId);

      const after = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();
      expect(after).toEqual(before);
      expect(await headroom.store.db.selectFrom("decisions").select("id").execute()).toHaveLength(
        decisions.length,
      );
    });

    it("runs a what-if stress on the candidate only and keeps it in the report; refuses a factor out of bounds", async () => {
      const run = await inject({
        method: "POST",
        url: "/v1/simulations",
        payload: { stress: 0.8, regionFactors: { west: 0.9 } },
      });
      expect(run.statusCode).toBe(202);
      const { report } = await reportOf(run.json().id, 100_000);
      expect(report.candidate.policy).toBe("policy-1");
      expect(report.whatIf).toEqual({ stress: 0.8, regions: { west: 0.9 } });
      expect(report.measures).toEqual({
        current: { regions: {}, stress: 1 },
        candidate: { regions: { west: 0.9 }, stress: 0.8 },
      });
      expect(report.classWide.current).toBe(0);
      expect(report.classWide.candidate).toBeGreaterThan(0);
      // Same policy and model: every hit is the what-if's doing. A cut (or a smaller increase) it
      // makes is marked class-wide, as its live record would be; an increase it holds back is
      // "none", which no record marks.
      type Hit = { candidateClassWide: boolean; currentAction: string; candidateAction: string };
      const hits: Hit[] = report.hits;
      expect(hits.filter((h) => h.candidateClassWide).length).toBeGreaterThan(0);
      expect(
        hits
          .filter((h) => !h.candidateClassWide)
          .every((h) => h.currentAction === "increase" && h.candidateAction === "none"),
      ).toBe(true);
      expect(hits.filter((h) => h.candidateAction === "decrease").every((h) => h.candidateClassWide)).toBe(
        true,
      );

      for (const [payload, pointer] of [
        [{ stress: 3 }, "/body/stress"],
        [{ stress: "lots" }, "/body/stress"],
        [{ regionFactors: { west: 0.2 } }, "/body/regionFactors/west"],
        [{ regionFactors: { mars: 0.9 } }, "/body/regionFactors"],
      ] as const) {
        const bad = await inject({ method: "POST", url: "/v1/simulations", payload });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
        expect(bad.headers["content-type"]).toContain("application/problem+json");
        expect(bad.json().detail).toContain(pointer);
      }
    });

    it("serves a report stored before simulations read class-wide measures (none applied, none marked)", async () => {
      const row = await headroom.store.db
        .selectFrom("simulation_reports")
        .selectAll()
        .limit(1)
        .executeTakeFirstOrThrow();
      const { measures: _m, whatIf: _w, classWide: _c, ...old } = JSON.parse(row.report);
      old.hits = old.hits.map(
        ({ currentClassWide: _a, candidateClassWide: _b, ...h }: Record<string, unknown>) => h,
      );
      await headroom.store.db
        .insertInto("simulation_reports")
        .values({ ...row, id: "sim_before_measures", what_if: null, report: JSON.stringify(old) })
        .execute();
      const response = await inject({ method: "GET", url: "/v1/simulations/sim_before_measures" });
      expect(response.statusCode).toBe(200);
      const none = { regions: {}, stress: 1 };
      expect(response.json().report).toMatchObject({
        measures: { current: none, candidate: none },
        whatIf: null,
        classWide: { current: 0, candidate: 0 },
      });
      expect(
        response.json().report.hits.every((h: { currentClassWide: boolean }) => h.currentClassWide === false),
      ).toBe(true);
    });

    it("refuses a candidate that does not validate, naming the line, and an unknown report", async () => {
      const broken = DEFAULT_YAML.replace("maxLimit: 20000000", "maxLimit: lots");
      const line = broken.split("\n").findIndex((l) => l.includes("maxLimit: lots")) + 1;
      const response = await inject({
        method: "POST",
        url: "/v1/simulations",
        payload: { yaml: broken },
      });
      expect(response.statusCode).toBe(422);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.json().detail).toContain(`/body/yaml:${line}:`);
      const gap = await inject({
        method: "POST",
        url: "/v1/simulations",
        payload: { yaml: DEFAULT_YAML.replace('["score >= 606"]', '["score >= 630"]') },
      });
      expect(gap.statusCode).toBe(422);
      expect(gap.json().detail).toContain("tier-gap");
      const empty = await inject({ method: "POST", url: "/v1/simulations", payload: { yaml: "" } });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().detail).toContain("/body/yaml");
      const unknown = await inject({ method: "GET", url: "/v1/simulations/sim_nope" });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.headers["content-type"]).toContain("application/problem+json");
    });
  });
}
