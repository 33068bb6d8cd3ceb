import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { armOf } from "../../src/engine/policy/arms.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import {
  activatePolicy,
  approvePolicyVersion,
  compareArms,
  diffPolicyVersions,
  importPolicyVersion,
  loadActiveEngine,
  rollbackPolicy,
  runShadows,
} from "../../src/services/policyVersions.ts";
import { runSimulation } from "../../src/services/simulationRun.ts";
import { due, inquiry, opened } from "../support/events.ts";
import { approvedVersion } from "../support/policies.ts";
import {
  manualClock,
  postgresAvailability,
  postgresTarget,
  type StoreTarget,
  sqliteTarget,
} from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const V1 = readFileSync(DEFAULT_POLICY_PATH, "utf8");
/** policy-2 freezes from 15 days past due instead of 30. */
const V2 = V1.replace("version: policy-1", "version: policy-2").replace(
  'when: ["dpd >= 30", "frozen == 0", "closed == 0"]',
  'when: ["dpd >= 15", "frozen == 0", "closed == 0"]',
);
const GAPPED = readFileSync(new URL("./fixtures/gap-overlap.yaml", import.meta.url), "utf8");

const pgStatus = await postgresAvailability();
const targets: { target: StoreTarget; skip: boolean }[] = [
  { target: sqliteTarget, skip: false },
  { target: postgresTarget, skip: !pgStatus.ok },
];

for (const { target, skip } of targets) {
  describe.skipIf(skip)(`policy versions on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const clock = manualClock(T0);
    beforeEach(async () => {
      clock.set(T0 + 20 * DAY);
      headroom = await target.open(clock.now);
      // a1 is 18 days past due at T0+20d; a2 owes nothing.
      await ingestEvents(headroom, [
        opened("a1", T0),
        due("a1", "u1", T0 + DAY, T0 + 2 * DAY, 50_000),
        opened("a2", T0),
      ]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    const approved = (yaml: string) => approvedVersion(headroom, yaml, clock.now());

    it("imports checked versions only, once, and the author cannot approve their own", async () => {
      await expect(importPolicyVersion(headroom.store, GAPPED, "alice", 1)).rejects.toThrow(
        /tier-gap.*score = 600/s,
      );
      const draft = await importPolicyVersion(headroom.store, V1, "alice", 1);
      expect(draft).toMatchObject({ version: "policy-1", status: "draft", author: "alice" });
      await expect(importPolicyVersion(headroom.store, V1, "bob", 2)).rejects.toMatchObject({
        kind: "conflict",
      });
      await expect(approvePolicyVersion(headroom.store, "policy-1", "alice", 3)).rejects.toMatchObject({
        kind: "forbidden",
      });
      await expect(
        activatePolicy(headroom.store, { champion: "policy-1" }, "carol", 3),
      ).rejects.toMatchObject({
        kind: "forbidden",
      });
      // The approver must have seen what it does to the current book: a replay does not count.
      await expect(approvePolicyVersion(headroom.store, "policy-1", "bob", 4)).rejects.toMatchObject({
        kind: "needs_simulation",
        message: expect.stringContaining("headroom simulate --policy policy-1"),
      });
      await runSimulation(headroom, { policy: "policy-1", asOf: T0 + 10 * DAY, by: "alice" });
      await expect(approvePolicyVersion(headroom.store, "policy-1", "bob", 4)).rejects.toMatchObject({
        kind: "needs_simulation",
      });
      // Nor does a run under a what-if stress: it shows the book under measures not in force.
      await runSimulation(headroom, { policy: "policy-1", whatIf: { stress: 0.8 }, by: "alice" });
      await expect(approvePolicyVersion(headroom.store, "policy-1", "bob", 4)).rejects.toMatchObject({
        kind: "needs_simulation",
      });
      const { report } = await runSimulation(headroom, { policy: "policy-1", by: "alice" });
      expect(report).toMatchObject({ mode: "book", accounts: 2, candidate: { policy: "policy-1" } });
      expect(await approvePolicyVersion(headroom.store, "policy-1", "bob", 4)).toMatchObject({
        status: "approved",
        approvedBy: "bob",
      });
    });

    it("diffs two versions: the changed rule and the accounts of the book that would move", async () => {
      await approved(V1);
      await approved(V2);
      const diff = await diffPolicyVersions(headroom.store, "policy-1", "policy-2", clock.now());
      expect(diff.rules).toEqual({ added: [], removed: [], changed: ["delinquency-freeze"] });
      expect(diff.tiersChanged).toBe(false);
      expect(diff.accounts).toBe(2);
      expect(diff.moved).toBe(1);
      expect(diff.sample).toEqual([
        { accountId: "a1", from: expect.any(String), to: expect.stringMatching(/^freeze:/) },
      ]);
    });

    it("activates, rolls back, routes a challenger share by account hash and records the deciding version", async () => {
      await approved(V1);
      await approved(V2);
      await activatePolicy(headroom.store, { champion: "policy-1" }, "carol", 1);
      await activatePolicy(headroom.store, { champion: "policy-2" }, "carol", 2);
      expect((await loadActiveEngine(headroom.store)).policy.version).toBe("policy-2");
      const back = await rollbackPolicy(headroom.store, "dave", 3);
      expect(back).toMatchObject({ champion: "policy-1", activatedBy: "dave" });
      expect((await loadActiveEngine(headroom.store)).policy.version).toBe("policy-1");

      // The whole book goes to the challenger at share 1: a1's next decision is policy-2's freeze.
      await activatePolicy(
        headroom.store,
        { champion: "policy-1", challenger: "policy-2", challengerShare: 1 },
        "carol",
        4,
      );
      headroom.engine = await loadActiveEngine(headroom.store);
      await ingestEvents(headroom, [inquiry("a1", "q1", T0 + 20 * DAY)]);
      const decision = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("account_id", "=", "a1")
        .where("action", "=", "freeze")
        .executeTakeFirstOrThrow();
      expect(decision).toMatchObject({ policy_version: "policy-2", rule_id: "delinquency-freeze" });
      const report = await compareArms(headroom.store);
      expect(report.find((r) => r.policyVersion === "policy-2" && r.arm === "acted")?.byAction.freeze).toBe(
        1,
      );
    });

    it("decides shadow versions for the whole book and records them without acting", async () => {
      await approved(V1);
      await approved(V2);
      await activatePolicy(headroom.store, { champion: "policy-1", shadows: ["policy-2"] }, "carol", 1);
      headroom.engine = await loadActiveEngine(headroom.store);
      const before = await headroom.store.db
        .selectFrom("credit_lines")
        .selectAll()
        .orderBy("account_id")
        .execute();
      expect(await runShadows(headroom.store, headroom.engine, "s1", clock.now())).toBe(2);
      expect(
        await headroom.store.db.selectFrom("credit_lines").selectAll().orderBy("account_id").execute(),
      ).toEqual(before);
      const shadow = (await compareArms(headroom.store)).find((r) => r.arm === "shadow");
      expect(shadow).toMatchObject({ policyVersion: "policy-2", decisions: 2, adverse: 1 });
      expect(shadow?.byAction.freeze).toBe(1);
    });
  });
}

describe("challenger assignment", () => {
  it("is deterministic and close to the configured share", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `acct-${i}`);
    const share = ids.filter((id) => armOf(id, 0.2) === "challenger").length / ids.length;
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.22);
    expect(ids.map((id) => armOf(id, 0.2))).toEqual(ids.map((id) => armOf(id, 0.2)));
    expect(ids.every((id) => armOf(id, 0) === "champion" && armOf(id, 1) === "challenger")).toBe(true);
  });
});
