import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFeatures } from "../../src/engine/features.ts";
import type { Policy } from "../../src/engine/policy.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { loadLines } from "../../src/services/lineLoader.ts";
import { defaultPolicy } from "../../src/services/policyFiles.ts";
import { hitsCsv, simulate } from "../../src/services/simulation.ts";
import { due, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const AS_OF = T0 + 120 * DAY;

/** The same policy with the delinquency freeze at another number of days past due. */
function freezeAt(days: number): Policy {
  const policy = defaultPolicy();
  return {
    ...policy,
    version: `freeze-at-${days}`,
    rules: policy.rules.map((r) =>
      r.id === "delinquency-freeze"
        ? { ...r, when: r.when.map((c) => (c.fact === "dpd" ? { ...c, value: days } : c)) }
        : r,
    ),
  };
}

for (const { target, skip } of await storeTargets("the simulation suite")) {
  describe.skipIf(skip)(`simulation on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    beforeEach(async () => {
      headroom = await target.open(manualClock(AS_OF).now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("hits exactly the accounts between two thresholds, and touches nothing", async () => {
      // 60 accounts whose one unpaid instalment fell due 0..59 days before the simulation date.
      const events = Array.from({ length: 60 }, (_, i) => {
        const id = `s${String(i).padStart(2, "0")}`;
        return [opened(id, T0, { borrowerId: `b${i}` }), due(id, `u${i}`, T0 + DAY, AS_OF - i * DAY, 50_000)];
      }).flat();
      await ingestEvents(
        headroom,
        events.filter((e) => e.type === "account_opened"),
      );
      await ingestEvents(
        headroom,
        events.filter((e) => e.type !== "account_opened"),
      );
      const before = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();
      const decisionsBefore = await headroom.store.db.selectFrom("decisions").select("id").execute();

      const report = await simulate(
        headroom.store,
        activeEngine(freezeAt(30)),
        activeEngine(freezeAt(20)),
        AS_OF,
      );

      const lines = await headroom.store.db.transaction().execute((trx) =>
        loadLines(
          trx,
          headroom.store,
          before.map((l) => l.account_id),
        ),
      );
      const between = [...lines.values()]
        .filter((l) => {
          const dpd = readFeatures(l.state, { limit: l.row.limit_amount, balance: l.row.balance }, AS_OF).dpd;
          return dpd >= 20 && dpd < 30;
        })
        .map((l) => l.row.account_id)
        .sort();
      expect(between.length).toBeGreaterThan(5);
      expect(report.hits.map((h) => h.accountId).sort()).toEqual(between);
      expect(
        report.hits.every((h) => h.candidateAction === "freeze" && h.candidateRule === "delinquency-freeze"),
      ).toBe(true);
      expect(report.accounts).toBe(60);
      expect(report.actions.freeze?.candidate).toBe((report.actions.freeze?.current ?? 0) + between.length);
      expect(hitsCsv(report).trim().split("\n")).toHaveLength(between.length + 1);

      // A sandbox: the book and its decisions are exactly as they were.
      expect(
        await headroom.store.db.selectFrom("credit_lines").selectAll().orderBy("account_id").execute(),
      ).toEqual(before);
      expect(await headroom.store.db.selectFrom("decisions").select("id").execute()).toEqual(decisionsBefore);
    });
  });
}
