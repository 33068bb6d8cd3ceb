import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import {
  activatePolicy,
  compareArms,
  diffPolicyVersions,
  loadActiveEngine,
  runShadows,
} from "../../src/services/policyVersions.ts";
import { runReview } from "../../src/services/review.ts";
import { setRiskMeasure } from "../../src/services/riskSettings.ts";
import { opened } from "../support/events.ts";
import { approvedVersion } from "../support/policies.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
/** Two months on book: too early for increases, so only a measure can move these lines. */
const NOW = T0 + 60 * DAY;
/** At the tier cap the default policy gives these borrowers: no change without a measure. */
const LIMIT = 5_000_000;
const V1 = readFileSync(DEFAULT_POLICY_PATH, "utf8");
const version = (name: string, yaml = V1) => yaml.replace("version: policy-1", `version: ${name}`);
/** The same policy under another version name. */
const COPY = version("policy-copy");
/** Ignores a gap to the target up to 25% (instead of 10%): a cut of 20% is no longer made. */
const WIDER = version("policy-wider", V1.replace("hysteresis: 0.1", "hysteresis: 0.25"));

const targets = await storeTargets("the policy versions under measures suite");

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`policy diffs and shadows under the measures in force on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(NOW);
    beforeEach(async () => {
      clock.set(NOW);
      headroom = await target.open(clock.now);
      // The west's factor is in force; w1 opened under it and has not been decided since.
      await setRiskMeasure(
        headroom,
        { kind: "region", region: "west", factor: 0.8 },
        "analyst-1",
        "downturn",
      );
      const line = { declaredMonthlyIncome: 3_000_000, initialLimit: LIMIT };
      await ingestEvents(headroom, [opened("e1", T0, line), opened("w1", T0, { ...line, region: "west" })]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const approved = (yaml: string) => approvedVersion(headroom, yaml, clock.now());

    it("a diff decides both versions under the measures in force: only the versions' own difference moves accounts", async () => {
      await approved(V1);
      await approved(COPY);
      await approved(WIDER);
      const measures = { regions: { west: 0.8 }, stress: 1 };
      // The same policy: nothing moves, though the measure cuts w1 under both.
      const same = await diffPolicyVersions(headroom.store, "policy-1", "policy-copy", clock.now());
      expect(same).toMatchObject({ measures, accounts: 2, moved: 0, sample: [] });
      // A wider hysteresis matters only where the measure opens a gap to the target: w1, cut by
      // 20% to the west's target under policy-1, is left alone under policy-wider.
      const wider = await diffPolicyVersions(headroom.store, "policy-1", "policy-wider", clock.now());
      expect(wider).toMatchObject({
        measures,
        guardrailsChanged: ["hysteresis"],
        accounts: 2,
        moved: 1,
        movedByTransition: { "decrease -> none": 1 },
        sample: [{ accountId: "w1", from: `decrease:${LIMIT * 0.8}`, to: "none" }],
      });
    });

    it("shadow decisions under a live factor are the live decisions for the same lines", async () => {
      await approved(V1);
      await approved(COPY);
      await activatePolicy(headroom.store, { champion: "policy-1", shadows: ["policy-copy"] }, "carol", NOW);
      headroom.engine = await loadActiveEngine(headroom.store);
      expect(await runShadows(headroom.store, headroom.engine, "s1", clock.now())).toBe(2);
      await runReview(headroom, "r1");
      const shadows = await headroom.store.db
        .selectFrom("shadow_decisions")
        .select(["account_id", "action", "to_limit", "class_wide"])
        .where("run_id", "=", "s1")
        .orderBy("account_id")
        .execute();
      const live = await headroom.store.db
        .selectFrom("decisions")
        .select(["account_id", "action", "to_limit"])
        .where("trigger_kind", "=", "review")
        .orderBy("account_id")
        .execute();
      // The review records decisions that change something: w1's cut, with e1 unchanged.
      expect(live).toEqual([{ account_id: "w1", action: "decrease", to_limit: LIMIT * 0.8 }]);
      // Both arms say which decisions the measure made: w1's cut, nothing else.
      expect(shadows).toEqual([
        { account_id: "e1", action: "none", to_limit: LIMIT, class_wide: 0 },
        ...live.map((d) => ({ ...d, class_wide: 1 })),
      ]);
      const arms = await compareArms(headroom.store);
      expect(arms.find((a) => a.arm === "shadow")).toMatchObject({ decisions: 2, byMeasures: 1 });
      expect(arms.find((a) => a.arm === "acted" && a.policyVersion === "policy-1")).toMatchObject({
        byMeasures: 1,
      });
    });
  });
}
