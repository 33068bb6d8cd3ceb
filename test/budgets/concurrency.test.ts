import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { fileAppeal } from "../../src/services/appeals.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { budgetQueue, listBudgets } from "../../src/services/budgets.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import { type Headroom, openHeadroom } from "../../src/services/headroom.ts";
import { type IngestResult, ingestEvents } from "../../src/services/ingest.ts";
import { keyHeader } from "../support/auth.ts";
import { drawdown, incomeVerified, multiLending, opened } from "../support/events.ts";
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

    it("appeal reversals racing increases never pass the cap; reversals left waiting are granted before any increase", async () => {
      // North: six lines cut from 2,000,000 to 1,000,000 and appealed, twelve lines deserving +50%.
      const cuts = Array.from({ length: 6 }, (_, i) => `r${i}`);
      const asks = Array.from({ length: 12 }, (_, i) => `n${String(i).padStart(2, "0")}`);
      const north = { region: "north" as const, declaredMonthlyIncome: 2_000_000, initialLimit: 2 * LIMIT };
      clock.set(T0 + 130 * DAY);
      await ingestEvents(first(), [
        // Opened a month ago: too new for an increase, so the halving is what they get.
        ...cuts.flatMap((id) => [opened(id, T0 + 100 * DAY, north), ...multiLending(id, clock.now())]),
        ...asks.map((id) =>
          opened(id, T0, { region: "north", declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT }),
        ),
      ]);
      clock.set(T0 + 161 * DAY);
      await applyDueActions(first());
      const appeals: string[] = [];
      for (const id of cuts) {
        const cut = await first()
          .store.db.selectFrom("decisions")
          .select("id")
          .where("account_id", "=", id)
          .where("action", "=", "decrease")
          .where("status", "=", "applied")
          .executeTakeFirstOrThrow();
        const appeal = await fileAppeal(first(), id, {
          decisionId: cut.id,
          statement: "The new loans were one refinancing; see my statement.",
          evidence: [],
          requestId: "race",
        });
        appeals.push(appeal.appealId);
      }
      const northLines = () =>
        first().store.db.selectFrom("credit_lines").selectAll().where("region", "=", "north").execute();
      const lines = await northLines();
      expect(lines.filter((l) => cuts.includes(l.account_id)).map((l) => l.limit_amount)).toEqual(
        cuts.map(() => LIMIT),
      );
      const before = lines.reduce((s, l) => s + Number(l.limit_amount), 0);
      // Room for two reversals and one increase, or five increases: not for everyone.
      const room = 2 * LIMIT + STEP;
      const cap = before + room;
      await setBudget({ scope: "region", value: "north", measure: "limit", cap });

      const decide = (appealId: string, i: number) =>
        fetch(`${urls[i % urls.length]}/v1/appeals/${appealId}/decision`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({
            outcome: "reverse",
            reason: "The statements show one refinancing, not new borrowing; the cut was wrong.",
          }),
        }).then((r) => expect(r.status).toBe(200));
      // Everything in flight at once, interleaved over the servers.
      await Promise.all(
        asks.flatMap((id, i) => {
          const ask = send(i, [incomeVerified(id, clock.now() - DAY)]);
          const appealId = appeals[i / 2];
          return i % 2 === 0 && appealId !== undefined ? [decide(appealId, i + 1), ask] : [ask];
        }),
      );

      const after = await northLines();
      const used = after.reduce((s, l) => s + Number(l.limit_amount), 0);
      expect(used).toBeLessThanOrEqual(cap);
      const view = (await listBudgets(first().store)).find((b) => b.id === "region:north:limit");
      expect(view?.used).toBe(used);
      const restored = after.filter((l) => cuts.includes(l.account_id) && l.limit_amount === 2 * LIMIT);
      const raised = after.filter((l) => asks.includes(l.account_id) && l.limit_amount === LIMIT + STEP);
      expect(used - before).toBe(restored.length * LIMIT + raised.length * STEP);
      const waiting = (await budgetQueue(first().store, "waiting")).filter(
        (w) => cuts.includes(w.accountId) || asks.includes(w.accountId),
      );
      const waitingReversals = waiting.filter((w) => w.kind === "reversal");
      expect(restored.length + waitingReversals.length).toBe(cuts.length);
      expect(raised.length + waiting.filter((w) => w.kind === "increase").length).toBe(asks.length);
      // Reversals lead the queue; and an increase is left waiting with room for it only behind one.
      expect(waiting.slice(0, waitingReversals.length).every((w) => w.kind === "reversal")).toBe(true);
      if (waitingReversals.length === 0) expect(cap - used).toBeLessThan(STEP);
      else expect(cap - used).toBeLessThan(LIMIT);
      // In commit order (the ledger's): once a reversal was left waiting, no increase was granted.
      const sealed = await first()
        .store.db.selectFrom("ledger")
        .select(["kind", "ref_id"])
        .where("kind", "in", ["appeal_decision", "decision"])
        .orderBy("seq")
        .execute();
      const waitingAppeals = new Set(waitingReversals.map((w) => w.appealId));
      const grantedIncreases = new Set(
        (
          await first()
            .store.db.selectFrom("decisions")
            .select("id")
            .where("account_id", "in", asks)
            .where("action", "=", "increase")
            .where("status", "=", "applied")
            .execute()
        ).map((d) => d.id),
      );
      const firstWait = sealed.findIndex((l) => l.kind === "appeal_decision" && waitingAppeals.has(l.ref_id));
      if (firstWait >= 0)
        expect(sealed.slice(firstWait).filter((l) => grantedIncreases.has(l.ref_id))).toEqual([]);

      // Room for exactly the reversals still waiting (the cap set to what is used plus them): all
      // of them get it, and no increase.
      const finalCap = used + waitingReversals.length * LIMIT;
      await setBudget({ scope: "region", value: "north", measure: "limit", cap: finalCap });
      const final = await northLines();
      expect(final.filter((l) => cuts.includes(l.account_id)).map((l) => l.limit_amount)).toEqual(
        cuts.map(() => 2 * LIMIT),
      );
      expect(final.filter((l) => asks.includes(l.account_id) && l.limit_amount > LIMIT)).toHaveLength(
        raised.length,
      );
      expect(final.reduce((s, l) => s + Number(l.limit_amount), 0)).toBe(finalCap);
      const audit = await verifyLedger(first().store);
      expect(audit.problems).toEqual([]);
    });
  });
}
