import type { Insertable } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Headroom } from "../../src/services/headroom.ts";
import { insertRows } from "../../src/store/rowInserts.ts";
import type { BorrowerTable, Database } from "../../src/store/schema.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const T0 = Date.UTC(2026, 0, 5);
const targets = await storeTargets("the row insert suite");

const borrower = (id: string): Insertable<BorrowerTable> => ({
  id,
  region: "east",
  segment: "salaried",
  declared_income: 800_000,
  consent_bureau: 1,
  opt_out_automated: 0,
  created_at: T0,
});

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`multi-row inserts on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };

    beforeEach(async () => {
      headroom = await target.open(manualClock(T0).now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const borrowerIds = async () =>
      (await headroom.store.db.selectFrom("borrowers").select("id").orderBy("id").execute()).map((r) => r.id);

    // On SQLite the statements stop at a failing row without undoing the rows before it (`or
    // fail`): the transaction's rollback is what must take them away.
    it("leaves nothing of a transaction whose statement fails part-way", async () => {
      const failed = headroom.store.db.transaction().execute(async (trx) => {
        await insertRows(trx, headroom.store.dialect, "borrowers", [borrower("b0")]);
        // The third row repeats the first's key: the statement fails after writing two rows.
        await insertRows(trx, headroom.store.dialect, "borrowers", [
          borrower("b1"),
          borrower("b2"),
          borrower("b1"),
        ]);
      });
      await expect(failed).rejects.toThrow();
      expect(await borrowerIds()).toEqual([]);
      // The store takes the same rows in a transaction of their own afterwards.
      await headroom.store.db.transaction().execute(async (trx) => {
        const written = await insertRows(trx, headroom.store.dialect, "borrowers", [
          borrower("b1"),
          borrower("b2"),
        ]);
        expect(written.count).toBe(2);
      });
      expect(await borrowerIds()).toEqual(["b1", "b2"]);
    });

    it("refuses to insert outside a transaction, where a failure part-way would commit the rows before it", async () => {
      // A Kysely that is not a transaction, as a careless caller would pass it.
      const db = headroom.store.db as unknown as Parameters<typeof insertRows<keyof Database & string>>[0];
      await expect(insertRows(db, headroom.store.dialect, "borrowers", [borrower("b1")])).rejects.toThrow(
        /run only in a transaction/,
      );
      expect(await borrowerIds()).toEqual([]);
    });
  });
}
