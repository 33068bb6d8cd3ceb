import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { seedDemo } from "../../src/services/demo/seedDemo.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { runReview } from "../../src/services/review.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const END = Date.UTC(2026, 5, 30);
const WEEK = 7 * 86_400_000;

const targets = await storeTargets("the console API tests");

interface Slice {
  key: string;
  accounts: number;
  limit: number;
  balance: number;
  available: number;
}

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`console read API on ${target.name} over a seeded demo`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    let app: FastifyInstance;
    let inject: Inject;
    const get = async (url: string) => {
      const response = await inject({ method: "GET", url });
      return { status: response.statusCode, type: response.headers["content-type"], body: response.json() };
    };
    const lines = () => headroom.store.db.selectFrom("credit_lines").selectAll().execute();

    beforeAll(async () => {
      headroom = await target.open(manualClock(END).now);
      await seedDemo(headroom, { borrowers: 150, months: 4, seed: 7, end: END });
      app = await buildServer(headroom, { consoleDir: "/nonexistent" });
      inject = await injectAs(app, headroom);
    });
    afterAll(async () => {
      await app?.close();
      await headroom?.dispose();
    });

    it("exposure adds up to the book, and every open line is in one tier and one score bucket", async () => {
      const { status, body } = await get("/v1/portfolio/exposure");
      expect(status).toBe(200);
      const book = await lines();
      const open = book.filter((l) => l.status !== "CLOSED");
      expect(body.total.accounts).toBe(book.length);
      expect(body.total.limit).toBe(book.reduce((s, l) => s + l.limit_amount, 0));
      expect(body.total.balance).toBe(book.reduce((s, l) => s + l.balance, 0));
      for (const grouping of ["byRegion", "bySegment", "byStatus"] as const) {
        const slices = body[grouping] as Slice[];
        expect(slices.reduce((s, x) => s + x.accounts, 0)).toBe(book.length);
        expect(slices.reduce((s, x) => s + x.limit, 0)).toBe(body.total.limit);
        expect(slices.reduce((s, x) => s + x.available, 0)).toBe(body.total.available);
      }
      const east = (body.byRegion as Slice[]).find((s) => s.key === "east");
      expect(east?.accounts).toBe(book.filter((l) => l.region === "east").length);
      expect((body.byTier as Slice[]).map((s) => s.key)).toEqual(
        headroom.engine.policy.tiers.rows.map((t) => t.id),
      );
      expect((body.byTier as Slice[]).reduce((s, x) => s + x.accounts, 0)).toBe(open.length);
      const histogram = body.scoreHistogram as { from: number; to: number; accounts: number }[];
      expect(histogram.reduce((s, h) => s + h.accounts, 0)).toBe(open.length);
      for (const h of histogram) expect(h.from % 20).toBe(0);
    });

    it("limit changes per week count every line change once, under its decision's action", async () => {
      const { body } = await get("/v1/portfolio/limit-changes?bucket=week");
      const changes = await headroom.store.db
        .selectFrom("line_changes as c")
        .innerJoin("decisions as d", "d.id", "c.decision_id")
        .select(["d.action", "c.from_limit", "c.to_limit", "c.effective_at"])
        .execute();
      expect(changes.length).toBeGreaterThan(0);
      const points = body.points as { at: string; action: string; changes: number; limitDelta: number }[];
      expect(points.reduce((s, p) => s + p.changes, 0)).toBe(changes.length);
      for (const p of points) expect(Date.parse(p.at) % WEEK).toBe(0);
      const decreases = changes.filter((c) => c.action === "decrease");
      expect(points.filter((p) => p.action === "decrease").reduce((s, p) => s + p.limitDelta, 0)).toBe(
        decreases.reduce((s, c) => s + c.to_limit - c.from_limit, 0),
      );
      const firstWeek = Math.min(...changes.map((c) => c.effective_at));
      const from = new Date(Math.floor(firstWeek / WEEK) * WEEK + WEEK).toISOString();
      const later = (await get(`/v1/portfolio/limit-changes?bucket=day&from=${from}`)).body.points as {
        at: string;
        changes: number;
      }[];
      expect(later.reduce((s, p) => s + p.changes, 0)).toBe(
        changes.filter((c) => c.effective_at >= Date.parse(from)).length,
      );
    });

    it("refuses a bad bucket as problem+json naming the field", async () => {
      const { status, type, body } = await get("/v1/portfolio/limit-changes?bucket=month");
      expect(status).toBe(400);
      expect(type).toContain("application/problem+json");
      expect(body.errors.map((e: { pointer: string }) => e.pointer)).toContain("/querystring/bucket");
    });

    it("reports score PSI and feature CSI over the active model's decisions", async () => {
      const { status, body } = await get("/v1/portfolio/stability");
      expect(status).toBe(200);
      const byModel = await headroom.store.db
        .selectFrom("decisions")
        .select("id")
        .where("model_version", "=", headroom.engine.model.version)
        .execute();
      expect(body.stability.modelVersion).toBe(headroom.engine.model.version);
      expect(body.stability.decisions).toBe(byModel.length);
      expect(body.stability.score.psi).toBeGreaterThanOrEqual(0);
      expect(["stable", "watch", "shifted"]).toContain(body.stability.score.band);
      expect(body.stability.features.length).toBeGreaterThan(0);
    });

    it("counts notices and decisions as the outbox and decision tables hold them", async () => {
      const { body } = await get("/v1/portfolio/activity");
      const outbox = await headroom.store.db.selectFrom("outbox").select("kind").execute();
      const decisions = await headroom.store.db.selectFrom("decisions").select("action").execute();
      expect(body.notices.reduce((s: number, n: { count: number }) => s + n.count, 0)).toBe(outbox.length);
      expect(body.decisions.reduce((s: number, n: { count: number }) => s + n.count, 0)).toBe(
        decisions.length,
      );
    });

    it("explains a decision from its recorded masks: one fired rule, failed conditions named, points sum to the score", async () => {
      const changed = await headroom.store.db
        .selectFrom("decisions")
        .select(["id", "rule_id", "score", "output"])
        .where("action", "!=", "none")
        .where("rule_id", "is not", null)
        .limit(25)
        .execute();
      expect(changed.length).toBeGreaterThan(0);
      for (const row of changed) {
        const { status, body } = await get(`/v1/decisions/${row.id}/explanation`);
        expect(status).toBe(200);
        const masks = JSON.parse(row.output).trace.ruleMasks as number[];
        const rules = body.rules as { id: string; outcome: string; conditions: { held: boolean }[] }[];
        expect(rules.map((r) => r.id)).toEqual(headroom.engine.policy.rules.map((r) => r.id));
        rules.forEach((rule, i) => {
          const mask = masks[i] as number;
          rule.conditions.forEach((c, bit) => {
            expect(c.held).toBe((mask & (1 << bit)) !== 0);
          });
          if (rule.outcome === "not_met") expect(rule.conditions.some((c) => !c.held)).toBe(true);
          else expect(rule.conditions.every((c) => c.held)).toBe(true);
        });
        expect(rules.filter((r) => r.outcome === "fired").map((r) => r.id)).toEqual([row.rule_id]);
        const points = body.points as { points: number }[];
        // Trained scorecards earn fractional points; the score is their rounded sum.
        expect(Math.round(points.reduce((s, p) => s + p.points, headroom.engine.model.baseScore))).toBe(
          row.score,
        );
        expect(body.unavailable).toEqual([]);
      }
      const missing = await get("/v1/decisions/dec_nope/explanation");
      expect(missing.status).toBe(404);
      expect(missing.type).toContain("application/problem+json");
    });

    it("lists an account's events newest first and pages back with before", async () => {
      const [line] = await lines();
      const id = line?.account_id as string;
      const first = (await get(`/v1/accounts/${id}/events?limit=5`)).body.events as { occurredAt: string }[];
      expect(first.length).toBe(5);
      const times = first.map((e) => Date.parse(e.occurredAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const before = first[first.length - 1]?.occurredAt as string;
      const older = (await get(`/v1/accounts/${id}/events?limit=500&before=${before}`)).body.events as {
        occurredAt: string;
      }[];
      for (const e of older) expect(Date.parse(e.occurredAt)).toBeLessThan(Date.parse(before));
      const olderInStore = await headroom.store.db
        .selectFrom("events")
        .select("event_id")
        .where("account_id", "=", id)
        .where("occurred_at", "<", Date.parse(before))
        .execute();
      expect(older.length).toBe(olderInStore.length);
    });

    it("filters accounts by region", async () => {
      const { body } = await get("/v1/accounts?region=east&limit=500");
      const east = (await lines()).filter((l) => l.region === "east");
      expect(body.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(
        east.map((l) => l.account_id).sort(),
      );
    });

    it("reports review progress from the job cursor, and a finished review as done", async () => {
      const open = (await lines())
        .filter((l) => l.status !== "CLOSED")
        .map((l) => l.account_id)
        .sort();
      const cursorAt = open[Math.floor(open.length / 3)] as string;
      await headroom.store.db
        .insertInto("job_cursors")
        .values({ job: "review:half-way", cursor: cursorAt, updated_at: END })
        .execute();
      await runReview(headroom, "finished");
      const jobs = (await get("/v1/jobs")).body.jobs as {
        job: string;
        done: boolean;
        processed: number;
        total: number;
      }[];
      const openNow = (await lines()).filter((l) => l.status !== "CLOSED").map((l) => l.account_id);
      const half = jobs.find((j) => j.job === "review:half-way");
      expect(half).toMatchObject({ done: false, total: openNow.length });
      expect(half?.processed).toBe(openNow.filter((id) => id <= cursorAt).length);
      expect(jobs.find((j) => j.job === "review:finished")).toMatchObject({
        done: true,
        processed: openNow.length,
        total: openNow.length,
      });
    });
  });
}
