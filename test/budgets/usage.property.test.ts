import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { drainBudgetQueue } from "../../src/services/budgetQueue.ts";
import { setBudget } from "../../src/services/budgets.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { drawdown, fraud, iso, opened, repaid } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 200 * DAY;
const ACCOUNTS = ["a", "b", "c", "d", "e", "f"];
const REGIONS = ["east", "west"] as const;

type Op =
  | { kind: "open"; account: number; region: 0 | 1; limit: number }
  | { kind: "draw"; account: number; amount: number }
  | { kind: "repay"; account: number; amount: number }
  | { kind: "increase"; account: number }
  | { kind: "fraud"; account: number }
  | { kind: "cap"; budget: number; cap: number }
  | { kind: "drain" };

const account = fc.integer({ min: 0, max: ACCOUNTS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("open" as const),
    account,
    region: fc.constantFrom(0 as const, 1 as const),
    limit: fc.integer({ min: 1, max: 30 }).map((n) => n * 100_000),
  }),
  fc.record({
    kind: fc.constant("draw" as const),
    account,
    amount: fc.integer({ min: 1, max: 20 }).map((n) => n * 50_000),
  }),
  fc.record({
    kind: fc.constant("repay" as const),
    account,
    amount: fc.integer({ min: 1, max: 20 }).map((n) => n * 50_000),
  }),
  fc.record({ kind: fc.constant("increase" as const), account }),
  fc.record({ kind: fc.constant("fraud" as const), account }),
  fc.record({
    kind: fc.constant("cap" as const),
    budget: fc.integer({ min: 0, max: 2 }),
    cap: fc.integer({ min: 0, max: 80 }).map((n) => n * 100_000),
  }),
  fc.constant({ kind: "drain" as const }),
);

const BUDGETS = [
  { scope: "total", measure: "limit" },
  { scope: "region", value: "east", measure: "limit" },
  { scope: "total", measure: "balance" },
] as const;

async function usage(headroom: Headroom) {
  const budgets = await headroom.store.db.selectFrom("budgets").selectAll().execute();
  const lines = await headroom.store.db.selectFrom("credit_lines").selectAll().execute();
  return budgets.map((b) => {
    const covered = lines.filter((l) => b.scope_kind === "total" || l.region === b.scope_value);
    const sum = covered.reduce((s, l) => s + (b.measure === "limit" ? l.limit_amount : l.balance), 0);
    return { id: b.id, cap: b.cap, used: b.used, sum };
  });
}

describe("budget usage under any sequence of changes (SQLite)", () => {
  it("always equals the sum over the lines it covers, and only a cap change leaves it above its cap", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), async (ops) => {
        const clock = manualClock(NOW);
        const headroom = await sqliteTarget.open(clock.now);
        try {
          for (const [i, b] of BUDGETS.entries())
            await setBudget(headroom, { ...b, cap: 20 * (i + 1) * 100_000, actor: "p", reason: "property" });
          let seq = 0;
          for (const o of ops) {
            const before = new Map((await usage(headroom)).map((u) => [u.id, u.used]));
            const id = `${ACCOUNTS[o.kind === "cap" || o.kind === "drain" ? 0 : o.account]}`;
            const at = T0 + 100 * DAY + seq++ * 60_000;
            const events: CreditEvent[] =
              o.kind === "open"
                ? [
                    opened(id, T0, {
                      region: REGIONS[o.region],
                      initialLimit: o.limit,
                      declaredMonthlyIncome: 3_000_000,
                    }),
                  ]
                : o.kind === "draw"
                  ? [drawdown(id, `d${seq}`, at, o.amount)]
                  : o.kind === "repay"
                    ? [repaid(id, `r${seq}`, at, o.amount)]
                    : o.kind === "increase"
                      ? [
                          {
                            id: `i${seq}`,
                            accountId: id,
                            type: "income_verified",
                            occurredAt: iso(at),
                            data: { monthlyIncome: 3_000_000, source: "payroll" },
                          },
                        ]
                      : o.kind === "fraud"
                        ? [fraud(id, `f${seq}`, at)]
                        : [];
            if (o.kind === "cap") {
              const b = BUDGETS[o.budget] as (typeof BUDGETS)[number];
              await setBudget(headroom, { ...b, cap: o.cap, actor: "p", reason: "property" });
            } else if (o.kind === "drain") await drainBudgetQueue(headroom);
            else await ingestEvents(headroom, events);
            for (const u of await usage(headroom)) {
              expect(u.used).toBe(u.sum);
              const grew = u.used > (before.get(u.id) ?? 0);
              if (grew && o.kind !== "cap") expect(u.used).toBeLessThanOrEqual(u.cap);
            }
          }
        } finally {
          await headroom.dispose();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("holds for a budget set after the lines, a line moved to another region and a line removed", async () => {
    const headroom = await sqliteTarget.open(manualClock(NOW).now);
    try {
      const at = T0 + 100 * DAY;
      await ingestEvents(headroom, [
        opened("a", T0, { region: "east", initialLimit: 2_000_000, declaredMonthlyIncome: 3_000_000 }),
        opened("b", T0, { region: "east", initialLimit: 1_000_000, declaredMonthlyIncome: 3_000_000 }),
        opened("c", T0, { region: "west", initialLimit: 1_500_000, declaredMonthlyIncome: 3_000_000 }),
        drawdown("a", "d1", at, 300_000),
        drawdown("c", "d2", at, 200_000),
      ]);
      for (const b of BUDGETS)
        await setBudget(headroom, { ...b, cap: 10_000_000, actor: "p", reason: "late" });
      const agrees = async () => {
        const all = await usage(headroom);
        expect(all.map((u) => u.used)).toEqual(all.map((u) => u.sum));
        return all;
      };
      expect((await agrees()).map((u) => u.used)).toEqual([4_500_000, 3_000_000, 500_000]);
      await ingestEvents(headroom, [
        drawdown("b", "d3", at + 1000, 100_000),
        repaid("a", "r1", at + 2000, 50_000),
      ]);
      await agrees();
      // No write path moves a line today; the usage must follow one that does.
      const db = headroom.store.db;
      await db
        .updateTable("credit_lines")
        .set((eb) => ({ region: "west", balance: eb("balance", "+", 40_000) }))
        .where("account_id", "=", "a")
        .execute();
      expect((await agrees()).map((u) => u.used)).toEqual([4_500_000, 1_000_000, 590_000]);
      await db.updateTable("credit_lines").set({ region: "east" }).where("account_id", "=", "c").execute();
      await agrees();
      await db.deleteFrom("credit_lines").where("account_id", "=", "b").execute();
      expect((await agrees()).map((u) => u.used)).toEqual([3_500_000, 1_500_000, 490_000]);
    } finally {
      await headroom.dispose();
    }
  });
});
