import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { DEFAULT_FEES, overLimitFee } from "../../src/engine/pricing/fees.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import { assessOverLimitFees } from "../../src/services/fees.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { drawdown, inquiry, lenderOpened, opened } from "../support/events.ts";
import { manualClock, type StoreTarget, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

describe("over-limit fee rule", () => {
  it("never charges within 45 days of the notice of the cut behind it, nor twice in a month", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.option(fc.integer({ min: 0, max: 400 })),
        fc.option(fc.integer({ min: 0, max: 400 })),
        fc.integer({ min: 0, max: 400 }),
        (balance, limit, cutDay, feeDay, nowDay) => {
          const cutAt = cutDay === null ? null : T0 + cutDay * DAY;
          const feeAt = feeDay === null ? null : T0 + feeDay * DAY;
          const now = T0 + nowDay * DAY;
          const check = overLimitFee({ balance, limit }, cutAt, feeAt, now);
          if (!check.charge) return;
          expect(balance).toBeGreaterThan(limit);
          if (cutAt !== null) expect(now - cutAt).toBeGreaterThanOrEqual(DEFAULT_FEES.cutGraceDays * DAY);
          if (feeAt !== null) expect(now - feeAt).toBeGreaterThanOrEqual(DEFAULT_FEES.everyDays * DAY);
          expect(check.amount).toBe(DEFAULT_FEES.overLimitFee);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const targets: { target: StoreTarget; skip: boolean }[] = await storeTargets("over-limit fees");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`over-limit fees on ${target.name}`, () => {
    const clock = manualClock(T0);
    let headroom: Headroom & { dispose(): Promise<void> };
    let app: FastifyInstance;
    let inject: Inject;
    beforeEach(async () => {
      clock.set(T0 + 30 * DAY);
      headroom = await target.open(clock.now);
      app = await buildServer(headroom);
      inject = await injectAs(app, headroom);
    });
    afterEach(async () => {
      await app.close();
      await headroom.dispose();
    });

    it("a cut that leaves the balance above the limit brings no fee until 45 days after its notice", async () => {
      // 15,000 yuan drawn, then borrowing widely: a 10,000 yuan limit is announced on day 28.
      const events = [
        opened("a1", T0, { declaredMonthlyIncome: 2_000_000 }),
        drawdown("a1", "d", T0 + DAY, 1_500_000),
      ];
      for (let i = 0; i < 3; i++)
        events.push(lenderOpened("a1", `l${i}`, T0 + (20 + i) * DAY, `lender-${i}`));
      for (let i = 0; i < 4; i++) events.push(inquiry("a1", `q${i}`, T0 + (25 + i) * DAY));
      await ingestEvents(headroom, events);
      const cut = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("action", "=", "decrease")
        .executeTakeFirstOrThrow();
      clock.set(cut.effective_at);
      await applyDueActions(headroom);
      const line = async () =>
        headroom.store.db
          .selectFrom("credit_lines")
          .selectAll()
          .where("account_id", "=", "a1")
          .executeTakeFirstOrThrow();
      expect(await line()).toMatchObject({ limit_amount: cut.to_limit, balance: 1_500_000 });

      // Over the limit since the cut took effect, but within 45 days of its notice: held.
      const graceEnds = cut.decided_at + DEFAULT_FEES.cutGraceDays * DAY;
      clock.set(graceEnds - 1);
      expect(await assessOverLimitFees(headroom)).toEqual({ charged: 0, heldForCutNotice: 1 });
      expect((await line()).balance).toBe(1_500_000);

      clock.set(graceEnds);
      expect(await assessOverLimitFees(headroom)).toEqual({ charged: 1, heldForCutNotice: 0 });
      expect((await line()).balance).toBe(1_500_000 + DEFAULT_FEES.overLimitFee);
      // Not again within the month.
      clock.set(graceEnds + 10 * DAY);
      expect(await assessOverLimitFees(headroom)).toEqual({ charged: 0, heldForCutNotice: 0 });

      const fees = (await inject({ method: "GET", url: "/v1/accounts/a1/fees" })).json().fees;
      expect(fees).toEqual([
        {
          feeId: expect.any(String),
          kind: "over_limit",
          amount: DEFAULT_FEES.overLimitFee,
          causeDecisionId: cut.id,
          chargedAt: new Date(graceEnds).toISOString(),
        },
      ]);
      const notices = (await inject({ method: "GET", url: "/v1/accounts/a1/notices" })).json().notices;
      const feeNotice = notices.find((n: { kind: string }) => n.kind === "fee_charged");
      // The notice is sealed with the fee, in the same transaction.
      const sealed = await headroom.store.db
        .selectFrom("ledger")
        .select(["kind", "ref_id"])
        .where("recorded_at", "=", graceEnds)
        .orderBy("seq")
        .execute();
      expect(sealed).toEqual([
        { kind: "fee", ref_id: fees[0].feeId },
        { kind: "notice", ref_id: feeNotice.noticeId },
      ]);
      expect((await verifyLedger(headroom.store)).ok).toBe(true);
    });
  });
}
