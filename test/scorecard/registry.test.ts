import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/engine/random.ts";
import type { Dataset } from "../../src/engine/scorecard/dataset.ts";
import { DEFAULT_TRAINING, trainScorecard } from "../../src/engine/scorecard/train.ts";
import { validateScorecard } from "../../src/engine/scorecard/validation.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import {
  getModel,
  listModels,
  ModelRegistryError,
  moveModel,
  registerDraft,
} from "../../src/services/modelRegistry.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const T0 = Date.UTC(2026, 5, 1);

function trained(version: string) {
  const random = seededRandom(5);
  const n = 3000;
  const a = Float64Array.from({ length: n }, () => random.next());
  const target = Uint8Array.from(a, (v) => (random.next() < 0.1 + 0.5 * v ? 1 : 0));
  const data: Dataset = { names: ["a"], columns: [a], levels: [null], target };
  const { scorecard, report } = trainScorecard(data, version, DEFAULT_TRAINING);
  return { scorecard, training: report, validation: validateScorecard(scorecard, data) };
}

for (const { target, skip } of await storeTargets("the model registry")) {
  describe.skipIf(skip)(`model registry on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(T0);
    beforeEach(async () => {
      headroom = await target.open(clock.now);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("takes a version from draft to active with a second person's approval, sealing each step", async () => {
      const store = headroom.store;
      await registerDraft(store, { ...trained("m1"), author: "ana" }, T0);
      await expect(registerDraft(store, { ...trained("m1"), author: "ana" }, T0)).rejects.toThrow(
        /already exists/,
      );
      await expect(moveModel(store, "m1", "active", "bo", "skip ahead", T0)).rejects.toThrow(
        /draft; it cannot become active/,
      );
      await moveModel(store, "m1", "validated", "ana", "report reviewed", T0 + 1);
      await expect(moveModel(store, "m1", "approved", "ana", "mine is fine", T0 + 2)).rejects.toThrow(
        ModelRegistryError,
      );
      await expect(moveModel(store, "m1", "approved", "bo", "  ", T0 + 2)).rejects.toThrow(/written reason/);
      const approved = await moveModel(store, "m1", "approved", "bo", "AUC and calibration checked", T0 + 3);
      expect(approved).toMatchObject({ state: "approved", approvedBy: "bo", author: "ana" });
      await moveModel(store, "m1", "active", "bo", "go live", T0 + 4);

      await registerDraft(store, { ...trained("m2"), author: "cy" }, T0 + 5);
      await moveModel(store, "m2", "validated", "cy", "report reviewed", T0 + 6);
      await moveModel(store, "m2", "approved", "ana", "checked", T0 + 7);
      await moveModel(store, "m2", "active", "ana", "replaces m1", T0 + 8);
      expect((await listModels(store)).map((m) => [m.version, m.state])).toEqual([
        ["m1", "retired"],
        ["m2", "active"],
      ]);
      const m2 = await getModel(store, "m2");
      expect(m2?.validation.auc).toBeGreaterThan(0.6);
      expect(m2?.scorecard.features.map((f) => f.name)).toEqual(["a"]);

      const report = await verifyLedger(store);
      // Four steps for m1, four for m2 and m1 retiring when m2 went live.
      expect(report).toMatchObject({ ok: true, entries: 9 });
      await sql`update model_transitions set actor = 'mallory' where to_state = 'approved' and version = 'm1'`.execute(
        store.db,
      );
      const tampered = await verifyLedger(store);
      expect(tampered.ok).toBe(false);
      expect(tampered.problems[0]?.problem).toMatch(
        /^model lifecycle step mt_m1_validated_approved_\d+ was edited after it was sealed$/,
      );
    });
  });
}
