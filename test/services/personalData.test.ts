import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import {
  masterKey,
  masterKeyFrom,
  readPersonalData,
  rotateBorrowerKey,
  rotateMasterKey,
} from "../../src/services/personalData.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { inquiry, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 100 * DAY;
const ALICE = {
  name: "王芳",
  phone: "13912345678",
  idNumber: "110105198001011234",
  bankAccount: "6222020200112233",
};

for (const { target, skip } of await storeTargets("the personal data tests")) {
  describe.skipIf(skip)(`personal data encrypted at rest on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    let app: FastifyInstance;
    let as: { admin: Inject; analyst: Inject; integration: Inject; alice: Inject; bob: Inject };
    const url = "/v1/borrowers/b-alice/personal-data";

    beforeEach(async () => {
      headroom = await target.open(manualClock(NOW).now);
      await ingestEvents(headroom, [
        opened("alice-1", T0, { borrowerId: "b-alice" }),
        opened("bob-1", T0, { borrowerId: "b-bob" }),
        ...[1, 2, 3, 4, 5, 6, 7].map((i) => inquiry("alice-1", `q${i}`, T0 + (40 + i) * DAY)),
      ]);
      app = await buildServer(headroom, { consoleDir: "/nonexistent" });
      as = {
        admin: await injectAs(app, headroom),
        analyst: await injectAs(app, headroom, "analyst"),
        integration: await injectAs(app, headroom, "integration"),
        alice: await injectAs(app, headroom, "borrower", "b-alice"),
        bob: await injectAs(app, headroom, "borrower", "b-bob"),
      };
      const put = await as.integration({ method: "PUT", url, payload: ALICE });
      expect(put.statusCode, put.body).toBe(204);
    });
    afterEach(async () => {
      await app.close();
      await headroom.dispose();
    });

    it("stores only ciphertext, bound to its borrower, and shows it whole to the borrower and admins, masked to staff", async () => {
      const rows = await headroom.store.db.selectFrom("borrower_personal_data").selectAll().execute();
      const keys = await headroom.store.db.selectFrom("borrower_keys").selectAll().execute();
      const stored = JSON.stringify([rows, keys]);
      for (const value of Object.values(ALICE)) expect(stored).not.toContain(value);

      expect((await as.alice({ method: "GET", url })).json()).toEqual({
        borrowerId: "b-alice",
        masked: false,
        erased: false,
        data: ALICE,
      });
      expect((await as.admin({ method: "GET", url })).json().data).toEqual(ALICE);
      const masked = (await as.analyst({ method: "GET", url })).json();
      expect(masked).toMatchObject({
        masked: true,
        data: { name: "王*", phone: "139****5678", idNumber: "11**************34" },
      });
      expect(masked.data.bankAccount).toBe("************2233");
      expect((await as.bob({ method: "GET", url })).statusCode).toBe(404);

      // Alice's ciphertext copied onto Bob's row does not decrypt: it is bound to Alice.
      await as.integration({
        method: "PUT",
        url: "/v1/borrowers/b-bob/personal-data",
        payload: { ...ALICE, name: "李强" },
      });
      const alice = rows[0]?.ciphertext as string;
      await headroom.store.db
        .updateTable("borrower_personal_data")
        .set({ ciphertext: alice })
        .where("borrower_id", "=", "b-bob")
        .execute();
      await expect(readPersonalData(headroom.store, masterKey(), "b-bob")).rejects.toThrow();
    });

    it("names the field of malformed personal data, and refuses an unknown borrower", async () => {
      const bad = await as.integration({ method: "PUT", url, payload: { ...ALICE, phone: "call me" } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(["/body/phone"]);
      expect(bad.body).not.toContain("call me");
      const unknown = await as.integration({
        method: "PUT",
        url: "/v1/borrowers/nobody/personal-data",
        payload: ALICE,
      });
      expect(unknown.statusCode).toBe(404);
    });

    it("erases by destroying the key: the data is gone for good, the export says so, the ledger still verifies", async () => {
      const before = (await as.alice({ method: "GET", url: "/v1/borrowers/b-alice/export" })).json();
      expect(before.borrower.personalData).toEqual(ALICE);
      expect(before.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(["alice-1"]);
      expect(before.decisions.length).toBeGreaterThan(0);
      expect((await as.bob({ method: "GET", url: "/v1/borrowers/b-alice/export" })).statusCode).toBe(404);

      expect((await as.alice({ method: "DELETE", url })).statusCode).toBe(204);
      const key = await headroom.store.db
        .selectFrom("borrower_keys")
        .selectAll()
        .where("borrower_id", "=", "b-alice")
        .executeTakeFirstOrThrow();
      expect(key.wrapped_key).toBeNull();
      expect(await readPersonalData(headroom.store, masterKey(), "b-alice")).toBe("erased");
      expect((await as.admin({ method: "GET", url })).json()).toMatchObject({ erased: true, data: null });
      expect(
        (await as.alice({ method: "GET", url: "/v1/borrowers/b-alice/export" })).json().borrower.personalData,
      ).toBe("erased");
      expect((await as.integration({ method: "PUT", url, payload: ALICE })).statusCode).toBe(409);
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);
    });

    it("rotates the master key (re-wrapping data keys) and a borrower's data key (re-encrypting)", async () => {
      const current = masterKey();
      const next = masterKeyFrom(randomBytes(32));
      expect(await rotateMasterKey(headroom.store, current, next)).toBe(1);
      expect(await readPersonalData(headroom.store, next, "b-alice")).toEqual(ALICE);
      await expect(readPersonalData(headroom.store, current, "b-alice")).rejects.toThrow(
        /wrapped by master key/,
      );

      const cipher = async () =>
        (
          await headroom.store.db
            .selectFrom("borrower_personal_data")
            .select("ciphertext")
            .where("borrower_id", "=", "b-alice")
            .executeTakeFirstOrThrow()
        ).ciphertext;
      const old = await cipher();
      expect(await rotateBorrowerKey(headroom.store, next, "b-alice")).toBe(true);
      expect(await cipher()).not.toBe(old);
      expect(await readPersonalData(headroom.store, next, "b-alice")).toEqual(ALICE);
      expect(await rotateMasterKey(headroom.store, next, current)).toBe(1);
    });
  });
}
