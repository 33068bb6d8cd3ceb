import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreditEvent } from "../../src/engine/events.ts";
import { parsePolicyYaml } from "../../src/engine/policy/document.ts";
import { renderNotice } from "../../src/services/channels/templates.ts";
import { activeEngine } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { defaultPolicy } from "../../src/services/policyFiles.ts";
import { drawdown, iso, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

const spent = (accountId: string, id: string, at: number, category: string): CreditEvent => ({
  id,
  accountId,
  type: "transaction",
  occurredAt: iso(at),
  data: { amount: 300_000, category },
});

/** A product that also prohibits business use (e.g. a consumer-only line), and not crypto. */
const consumerOnly = {
  ...defaultPolicy(),
  version: "consumer-only",
  prohibitedPurposes: ["securities", "business"],
};

const targets = await storeTargets("the loan purpose suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`loan purpose on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(T0 + 40 * DAY);
    beforeEach(async () => {
      headroom = await target.open(clock.now);
      await ingestEvents(headroom, [opened("a1", T0), drawdown("a1", "d0", T0 + DAY, 400_000)]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const line = () =>
      headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .where("account_id", "=", "a1")
        .executeTakeFirstOrThrow();

    it("refuses a drawdown for a purpose the policy prohibits, naming the purpose and the policy", async () => {
      const result = await ingestEvents(headroom, [
        drawdown("a1", "d1", T0 + 2 * DAY, 100_000, "securities"),
      ]);
      expect(result.results[0]).toEqual({
        id: "d1",
        status: "rejected",
        reason: "drawdown refused: purpose securities is prohibited by policy policy-1",
      });
      expect((await line()).balance).toBe(400_000);
      const stored = await headroom.store.db.selectFrom("drawdowns").select("id").execute();
      expect(stored.map((d) => d.id)).toEqual(["a1:d0"]);
    });

    it("takes the prohibited list from the policy in force, not from a constant", async () => {
      const custom = { ...headroom, engine: activeEngine(consumerOnly, headroom.engine.model) };
      const business: CreditEvent = {
        id: "d2",
        accountId: "a1",
        type: "drawdown",
        occurredAt: iso(T0 + 3 * DAY),
        data: {
          drawdownId: "d2",
          amount: 100_000,
          purpose: "business",
          termMonths: 12,
          repayment: "equal_instalment",
        },
      };
      expect((await ingestEvents(custom, [business])).results[0]).toMatchObject({
        status: "rejected",
        reason: expect.stringContaining("purpose business is prohibited by policy consumer-only"),
      });
      // The default product allows business use.
      expect((await ingestEvents(headroom, [{ ...business, id: "d3" }])).results[0]).toMatchObject({
        status: "accepted",
      });
      // Crypto is not on this product's list: funds seen going there re-decide nothing...
      expect((await ingestEvents(custom, [spent("a1", "t0", T0 + 39 * DAY, "crypto")])).decisions).toBe(0);
      expect((await line()).status).toBe("ACTIVE");
      // ...but funds seen going to business use recall the loan under the consumer-only policy.
      await ingestEvents(custom, [spent("a1", "t1", T0 + 40 * DAY, "business")]);
      expect((await line()).status).toBe("FROZEN");
    });

    it("recalls the loan (抽贷) when funds are seen going to a prohibited use, at once and with notice", async () => {
      const result = await ingestEvents(headroom, [spent("a1", "t1", T0 + 40 * DAY, "gambling")]);
      expect(result.decisions).toBe(1);
      expect((await line()).status).toBe("FROZEN");
      const [freeze] = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("rule_id", "=", "prohibited-use-recall")
        .execute();
      expect(freeze).toMatchObject({ action: "freeze", status: "applied", to_status: "FROZEN" });
      const output = JSON.parse(freeze?.output ?? "{}");
      expect(output).toMatchObject({ recall: true, urgency: "urgent" });
      expect(output.effectiveAt).toBe(output.decidedAt);
      expect(output.reasons.map((r: { feature: string }) => r.feature)).toEqual(["prohibitedUse90d"]);
      const notice = await headroom.store.db
        .selectFrom("outbox")
        .select("payload")
        .where("account_id", "=", "a1")
        .executeTakeFirstOrThrow();
      expect(JSON.parse(notice.payload)).toMatchObject({
        kind: "line_changed",
        action: "freeze",
        recall: true,
      });
      expect(renderNotice(notice.payload, "en").text).toContain("Funds used for prohibited purposes");
      // An allowed use re-decides nothing.
      const ordinary = await ingestEvents(headroom, [spent("a1", "t2", T0 + 40 * DAY + 1, "groceries")]);
      expect(ordinary.decisions).toBe(0);
    });
  });
}

describe("the policy document's prohibited purposes", () => {
  it("accepts a list of purpose names and refuses anything else, with the line of the problem", () => {
    const base = "version: p\ntiers: {hitPolicy: first, rows: []}\n";
    const parsed = parsePolicyYaml(`${base}prohibitedPurposes: ["Bad Name"]\n`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok)
      expect(parsed.problems).toContainEqual(
        expect.objectContaining({
          path: "prohibitedPurposes.0",
          line: 3,
          message: "purposes are lower_snake_case names",
        }),
      );
    expect(defaultPolicy().prohibitedPurposes).toEqual([
      "securities",
      "real_estate_down_payment",
      "gambling",
      "crypto",
    ]);
  });
});
