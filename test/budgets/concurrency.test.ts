import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { listBudgets } from "../../src/services/budgets.ts";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";
import { type IngestResult, ingestEvents } from "../../src/services/ingest.ts";
import { keyHeader } from "../support/auth.ts";
import { drawdown, iso, opened } from "../support/events.ts";
import { freshPostgresDatabase, manualClock, postgresAvailability } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const ACCOUNTS = 24;
const LIMIT = 1_000_000;
/** Each account's increase: +50% of its limit (the policy's largest single step). */
const STEP = 500_000;
const FITTING = 5;

const pg = await postgresAvailability();
if (!pg.ok) console.warn(`SKIPPED: the PostgreSQL run of the budget concurrency suite (${pg.reason})`);

/**
 * Two Headroom processes' worth of state on one database (separate pools, separate write locks),
 * each serving HTTP: on PostgreSQL their transactions really run at the same time. SQLite has one
 * writer, so its run is one server taking every request at once.
 */
const targets = [
  {
    name: "sqlite",
    skip: false,
    async open(clock: () => number) {
      const one = await openHeadroom({ databaseUrl: "sqlite::memory:", clock });
      return { nodes: [one], drop: async () => {} };
    },
  },
  {
    name: "postgres",
    skip: !pg.ok,
    async open(clock: () => number) {
      const database = await freshPostgresDatabase();
      const first = await openHeadroom({ databaseUrl: database.url, clock });
      const second = await openHeadroom({ databaseUrl: database.url, clock });
      return { nodes: [first, second], drop: database.drop };
    },
  },
];

const incomeVerified = (accountId: string, at: number): CreditEvent => ({
  id: `${accountId}-income`,
  accountId,
  type: "income_verified",
  occurredAt: iso(at),
  data: { monthlyIncome: 3_000_000, source: "payroll" },
});

for (const target of targets) {
  describe.skipIf(target.skip)(`exposure budgets under parallel requests on ${target.name}`, () => {
    const clock = manualClock(T0 + 120 * DAY);
    let nodes: Headroom[] = [];
    let drop: () => Promise<void>;
    let urls: string[] = [];
    const apps: FastifyInstance[] = [];
    let auth: { authorization: string };

    beforeAll(async () => {
      ({ nodes, drop } = await target.open(clock.now));
      auth = await keyHeader(nodes[0] as Headroom, "admin");
      for (const node of nodes) {
        const app = await buildServer(node);
        urls.push(await app.listen({ host: "127.0.0.1", port: 0 }));
        apps.push(app);
      }
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      for (const node of nodes) await node.close();
      await drop();
      urls = [];
    });

    const first = () => nodes[0] as Headroom;
    const send = (i: number, events: CreditEvent[]) =>
      fetch(`${urls[i % urls.length]}/v1/events`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ events }),
      }).then(async (r) => {
        expect(r.status).toBe(200);
        return (await r.json()) as IngestResult;
      });
    const setBudget = async (body: object) => {
      const r = await fetch(`${urls[0]}/v1/budgets`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ reason: "regional concentration limit", ...body }),
      });
      expect(r.status).toBe(200);
      return r.json();
    };
    const eastSum = async (column: "limit_amount" | "balance") => {
      const rows = await first()
        .store.db.selectFrom("credit_lines")
        .select(column)
        .where("region", "=", "east")
        .execute();
      return rows.reduce((s, r) => s + Number(r[column]), 0);
    };

    it("refuses a budget for an unknown region or a negative cap as problem+json", async () => {
      const put = (body: object) =>
        fetch(`${urls[0]}/v1/budgets`, {
          method: "PUT",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ reason: "r", measure: "limit", ...body }),
        });
      const unknown = await put({ scope: "region", value: "mars", cap: 1 });
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get("content-type")).toContain("application/problem+json");
      expect(await unknown.json()).toMatchObject({
        detail: expect.stringContaining("region must be one of"),
      });
      const negative = await put({ scope: "total", cap: -1 });
      expect(negative.status).toBe(400);
      expect(await negative.json()).toMatchObject({
        errors: [expect.objectContaining({ pointer: "/body/cap" })],
      });
    });

    it("parallel increases never pass a region's committed-credit cap; the rest queue", async () => {
      const ids = Array.from({ length: ACCOUNTS }, (_, i) => `e${String(i).padStart(2, "0")}`);
      await ingestEvents(
        first(),
        ids.map((id) => opened(id, T0, { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT })),
      );
      const cap = ACCOUNTS * LIMIT + FITTING * STEP;
      await setBudget({ scope: "region", value: "east", measure: "limit", cap });

      // Every increase in flight at once, spread over the servers.
      await Promise.all(ids.map((id, i) => send(i, [incomeVerified(id, T0 + 119 * DAY)])));

      const used = await eastSum("limit_amount");
      expect(used).toBeLessThanOrEqual(cap);
      expect(used).toBe(cap);
      const statuses = await first()
        .store.db.selectFrom("decisions")
        .select(["status"])
        .where("action", "=", "increase")
        .execute();
      expect(statuses.filter((s) => s.status === "applied")).toHaveLength(FITTING);
      expect(statuses.filter((s) => s.status === "queued")).toHaveLength(ACCOUNTS - FITTING);
      const budgets = await listBudgets(first().store);
      expect(budgets).toEqual([
        expect.objectContaining({ id: "region:east:limit", cap, used, room: 0, waiting: ACCOUNTS - FITTING }),
      ]);
    });

    it("parallel drawdowns never pass a drawn-credit cap, and the usage equals the lines' balances", async () => {
      const cap = 7 * 100_000;
      await setBudget({ scope: "total", measure: "balance", cap });
      const ids = Array.from({ length: ACCOUNTS }, (_, i) => `e${String(i).padStart(2, "0")}`);
      const results = await Promise.all(
        ids.map((id, i) => send(i, [drawdown(id, `${id}-d1`, T0 + 119 * DAY + i, 100_000)])),
      );
      const refused = results.flatMap((r) => r.results).filter((r) => r.status === "rejected");
      expect(refused).toHaveLength(ACCOUNTS - 7);
      expect(refused[0]).toMatchObject({ reason: expect.stringContaining("total drawn-credit budget") });
      expect(await eastSum("balance")).toBe(cap);
      const budgets = await listBudgets(first().store);
      expect(budgets.find((b) => b.id === "total:balance")).toMatchObject({ used: cap, room: 0 });
      expect(budgets.find((b) => b.id === "region:east:limit")?.used).toBe(await eastSum("limit_amount"));
      const audit = await verifyLedger(first().store);
      expect(audit.problems).toEqual([]);
    });
  });
}
