import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { inquiry, lenderOpened, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

for (const { target, skip } of await storeTargets("the bureau consent tests")) {
  describe.skipIf(skip)(`bureau data needs consent and a purpose tag on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    beforeEach(async () => {
      headroom = await target.open(manualClock(T0 + 90 * DAY).now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("takes tagged bureau events of a consenting borrower and refuses the rest, saying why", async () => {
      const untagged = inquiry("yes", "q-untagged", T0 + 2 * DAY) as Extract<
        CreditEvent,
        { type: "bureau_inquiry" }
      >;
      const { consent: _dropped, ...data } = untagged.data;
      const result = await ingestEvents(headroom, [
        opened("yes", T0, { borrowerId: "consents" }),
        opened("no", T0, { borrowerId: "refuses", consentBureau: false }),
        inquiry("yes", "q-ok", T0 + DAY),
        { ...untagged, data },
        lenderOpened("yes", "l-ok", T0 + 3 * DAY, "bank-a"),
        inquiry("no", "q-no", T0 + DAY),
        lenderOpened("no", "l-no", T0 + 3 * DAY, "bank-b"),
      ]);
      const byId = new Map(result.results.map((r) => [r.id, r]));
      expect(byId.get("q-ok")?.status).toBe("accepted");
      expect(byId.get("l-ok")?.status).toBe("accepted");
      expect(byId.get("q-untagged")).toMatchObject({
        status: "rejected",
        reason: expect.stringContaining("data.consent"),
      });
      for (const id of ["q-no", "l-no"])
        expect(byId.get(id)).toMatchObject({
          status: "rejected",
          reason: expect.stringContaining("has not consented"),
        });
      const stored = await headroom.store.db
        .selectFrom("events")
        .select("event_id")
        .where("account_id", "=", "no")
        .execute();
      expect(stored.map((e) => e.event_id)).toEqual(["no-open"]);

      // Consent recorded in an earlier batch counts the same way.
      const later = await ingestEvents(headroom, [
        inquiry("yes", "q-later", T0 + 10 * DAY),
        inquiry("no", "q-later-no", T0 + 10 * DAY),
      ]);
      expect(later.results.map((r) => r.status)).toEqual(["accepted", "rejected"]);
    });
  });
}
