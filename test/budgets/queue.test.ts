import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyLedger } from "../../src/services/audit.ts";
import { budgetQueue, listBudgets } from "../../src/services/budgets.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { eastLimitBudget } from "../support/budgets.ts";
import { incomeVerified, lenderOpened, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 120 * DAY;
const LIMIT = 1_000_000;
const STEP = 500_000;

const targets = await storeTargets("the budget queue suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`the budget queue on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(NOW);
    beforeEach(async () => {
      clock.set(NOW);
      headroom = await target.open(clock.now);
      // Three accounts that will deserve +50% (at three months on book); the default scorecard
      // (trained on real credit data) rates borrowers with more open credit lines as lower risk.
      await ingestEvents(headroom, [
        opened("risky", T0, { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT }),
        opened("middle", T0, { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT }),
        opened("safe", T0, { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT }),
        lenderOpened("middle", "m1", T0 + 60 * DAY, "bank-1"),
        ...[1, 2, 3, 4].map((i) => lenderOpened("safe", `s${i}`, T0 + 60 * DAY + i, `bank-${i}`)),
      ]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const budget = (cap: number) => eastLimitBudget(headroom, cap);
    const limitOf = async (accountId: string) =>
      (
        await headroom.store.db
          .selectFrom("credit_lines")
          .select("limit_amount")
          .where("account_id", "=", accountId)
          .executeTakeFirstOrThrow()
      ).limit_amount;

    it("grants queued increases by risk-adjusted priority, not by arrival, as room frees up", async () => {
      await budget(3 * LIMIT);
      // Arrival order: the riskiest first, the safest last.
      for (const [i, id] of ["risky", "middle", "safe"].entries())
        await ingestEvents(headroom, [incomeVerified(id, NOW - 10 * DAY + i)]);
      const waiting = await budgetQueue(headroom.store, "waiting");
      expect(waiting.map((w) => w.accountId)).toEqual(["safe", "middle", "risky"]);
      expect(waiting[0]?.pd).toBeLessThan(waiting[2]?.pd ?? 0);

      // Room for one increase: the safest gets it though it asked last.
      await budget(3 * LIMIT + STEP);
      expect([await limitOf("safe"), await limitOf("middle"), await limitOf("risky")]).toEqual([
        LIMIT + STEP,
        LIMIT,
        LIMIT,
      ]);
      // Room for one more: the next by priority.
      await budget(3 * LIMIT + 2 * STEP);
      expect(await limitOf("middle")).toBe(LIMIT + STEP);
      expect(await limitOf("risky")).toBe(LIMIT);
      expect((await budgetQueue(headroom.store, "waiting")).map((w) => w.accountId)).toEqual(["risky"]);
      const granted = await budgetQueue(headroom.store, "granted");
      expect(granted.map((g) => g.accountId).sort()).toEqual(["middle", "safe"]);
      const [view] = await listBudgets(headroom.store);
      expect(view).toMatchObject({ used: 3 * LIMIT + 2 * STEP, room: 0, waiting: 1 });
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      const changes = await headroom.store.db.selectFrom("budget_changes").selectAll().execute();
      expect(changes.map((c) => [c.cap_before, c.cap_after, c.actor])).toEqual([
        [null, 3 * LIMIT, "analyst-1"],
        [3 * LIMIT, 3 * LIMIT + STEP, "analyst-1"],
        [3 * LIMIT + STEP, 3 * LIMIT + 2 * STEP, "analyst-1"],
      ]);
      const sealed = await headroom.store.db
        .selectFrom("ledger")
        .select("ref_id")
        .where("kind", "=", "budget_change")
        .execute();
      expect(sealed.map((s) => s.ref_id).sort()).toEqual(changes.map((c) => c.id).sort());
      // A budget change edited after the fact is caught by the audit.
      await headroom.store.db
        .updateTable("budget_changes")
        .set({ reason: "edited later" })
        .where("id", "=", changes[0]?.id ?? "")
        .execute();
      expect((await verifyLedger(headroom.store)).problems).toEqual([
        expect.objectContaining({ refId: changes[0]?.id }),
      ]);
    });

    it("a later, riskier request waits behind a better one even when it alone would fit", async () => {
      // A smaller line: +50% of it is 300,000 fen, less than the safe account's 500,000 step.
      await ingestEvents(headroom, [
        opened("small", T0, { declaredMonthlyIncome: 3_000_000, initialLimit: 600_000 }),
      ]);
      const committed = 3 * LIMIT + 600_000;
      await budget(committed);
      await ingestEvents(headroom, [incomeVerified("safe", NOW - 10 * DAY)]);
      // 400,000 fen of room: not enough for the safe account, which keeps waiting...
      await budget(committed + 400_000);
      expect(await limitOf("safe")).toBe(LIMIT);
      // ...and the riskier small request, which would fit, may not overtake it.
      await ingestEvents(headroom, [incomeVerified("small", NOW - 5 * DAY)]);
      expect(await limitOf("small")).toBe(600_000);
      const waiting = await budgetQueue(headroom.store, "waiting");
      expect(waiting.map((w) => w.accountId)).toEqual(["safe", "small"]);
      // Enough room for the safe account: it goes first and the small one keeps waiting.
      await budget(committed + STEP);
      expect(await limitOf("safe")).toBe(LIMIT + STEP);
      expect(await limitOf("small")).toBe(600_000);
      expect((await budgetQueue(headroom.store, "waiting")).map((w) => w.accountId)).toEqual(["small"]);
    });
  });
}
