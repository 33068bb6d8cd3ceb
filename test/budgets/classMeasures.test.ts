import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Decision, type DecisionInput, decide } from "../../src/engine/decide.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { renderNotice } from "../../src/services/channels/templates.ts";
import { contextFor } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { RiskSettingError, setRiskMeasure } from "../../src/services/riskSettings.ts";
import { fraud, opened } from "../support/events.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
/** Two months on book: too early for increases, so only the measures can move these lines. */
const NOW = T0 + 60 * DAY;
/** At the tier cap the default policy gives these borrowers: no change without a measure. */
const LIMIT = 5_000_000;

const targets = await storeTargets("the class-wide measures suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`regional risk and stress measures on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(NOW);
    beforeEach(async () => {
      clock.set(NOW);
      headroom = await target.open(clock.now);
      const line = { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT };
      await ingestEvents(headroom, [
        opened("e1", T0, line),
        opened("e2", T0, line),
        opened("w1", T0, { ...line, region: "west" }),
        opened("w2", T0, { ...line, region: "west" }),
      ]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const decisionsOf = (accountId: string) =>
      headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("recorded_at")
        .execute();
    const noticeOf = async (decisionId: string) =>
      (
        await headroom.store.db
          .selectFrom("outbox")
          .select("payload")
          .where("payload", "like", `%${decisionId}%`)
          .executeTakeFirstOrThrow()
      ).payload;

    it("a regional factor re-decides that region only, and its cuts say they are a regional measure", async () => {
      const result = await setRiskMeasure(
        headroom,
        { kind: "region", region: "west", factor: 0.8 },
        "analyst-1",
        "regional downturn",
      );
      expect(result).toMatchObject({ reviewed: 2, changed: 2 });
      expect(await decisionsOf("e1")).toEqual([]);
      const [cut] = await decisionsOf("w1");
      expect(cut).toMatchObject({ action: "decrease", status: "scheduled", to_limit: 4_000_000 });
      const output = JSON.parse(cut?.output ?? "{}") as Decision;
      expect(output.classWide).toEqual({
        regionFactor: 0.8,
        stressMultiplier: 1,
        withoutMeasures: { action: "none", toLimit: LIMIT, toStatus: "ACTIVE" },
      });
      // The record replays: the measure is an input like any other.
      const input = JSON.parse(cut?.input ?? "{}") as DecisionInput;
      expect(input.classMeasures).toEqual({ regionFactor: 0.8, stressMultiplier: 1 });
      expect(decide(input, contextFor(headroom.engine, "w1"), output.decidedAt)).toEqual(output);

      const payload = await noticeOf(cut?.id ?? "");
      expect(JSON.parse(payload).classWide).toMatchObject({ scope: "regional", regionFactor: 0.8 });
      const en = renderNotice(payload, "en").text;
      expect(en).toContain("This is a regional measure");
      expect(en).toContain("not a judgement about you personally");
      expect(en).not.toContain("Principal reasons");
      expect(renderNotice(payload, "zh-CN").text).toContain("并非针对您个人的评价");

      const sealed = await headroom.store.db
        .selectFrom("ledger")
        .select("ref_id")
        .where("kind", "=", "risk_setting")
        .execute();
      expect(sealed.map((s) => s.ref_id)).toEqual([result.settingId]);
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);
    });

    it("the stress multiplier re-decides the whole book; personal decisions are not marked class-wide", async () => {
      const result = await setRiskMeasure(
        headroom,
        { kind: "stress", factor: 0.85 },
        "cro",
        "stress test scenario: recession",
      );
      expect(result).toMatchObject({ reviewed: 4, changed: 4 });
      const [cut] = await decisionsOf("e1");
      expect(cut).toMatchObject({ action: "decrease", to_limit: 4_250_000 });
      expect(JSON.parse(cut?.output ?? "{}").classWide).toMatchObject({
        regionFactor: 1,
        stressMultiplier: 0.85,
      });
      expect(renderNotice(await noticeOf(cut?.id ?? ""), "en").text).toContain(
        "This is a portfolio-wide measure",
      );

      // Fraud closes the line whatever the measures: that decision is about the borrower.
      await ingestEvents(headroom, [fraud("e2", "f1", NOW - DAY)]);
      const closed = (await decisionsOf("e2")).find((d) => d.action === "close");
      expect(JSON.parse(closed?.output ?? "{}").classWide).toBeUndefined();
      const text = renderNotice(await noticeOf(closed?.id ?? ""), "en").text;
      expect(text).toContain("Principal reasons");
      expect(text).not.toContain("measure");
    });

    it("refuses a factor outside its bounds or an unknown region", async () => {
      await expect(
        setRiskMeasure(headroom, { kind: "stress", factor: 0.1 }, "a", "r"),
      ).rejects.toBeInstanceOf(RiskSettingError);
      await expect(
        setRiskMeasure(headroom, { kind: "region", region: "mars", factor: 0.9 }, "a", "r"),
      ).rejects.toThrow(/region must be one of/);
    });
  });
}
