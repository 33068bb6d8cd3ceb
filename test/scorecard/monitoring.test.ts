import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/services/demo/seedDemo.ts";
import { defaultModelArtifact } from "../../src/services/engineConfig.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { liveStability } from "../../src/services/monitoring.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const NOW = Date.UTC(2026, 5, 1);

describe("live model monitoring", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  beforeEach(async () => {
    headroom = await sqliteTarget.open(manualClock(NOW).now);
  });
  afterEach(async () => {
    await headroom.dispose();
  });

  it("compares the scores and features of live decisions with the model's held-out baseline", async () => {
    const artifact = defaultModelArtifact();
    expect(await liveStability(headroom.store, artifact)).toBeNull();
    await seedDemo(headroom, { borrowers: 150, months: 4, seed: 9, end: NOW });
    const decided = await headroom.store.db
      .selectFrom("decisions")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("model_version", "=", artifact.model.version)
      .executeTakeFirstOrThrow();
    const report = await liveStability(headroom.store, artifact);
    expect(report?.decisions).toBe(Number(decided.n));
    expect(report?.features.map((f) => f.feature).sort()).toEqual(
      Object.keys(artifact.featureBaselines).sort(),
    );
    const band = (v: number) => (v < 0.1 ? "stable" : v < 0.25 ? "watch" : "shifted");
    for (const s of [report?.score, ...(report?.features ?? []).map((f) => ({ psi: f.csi, band: f.band }))]) {
      expect(Number.isFinite(s?.psi)).toBe(true);
      expect(s?.band).toBe(band(s?.psi as number));
    }
  });
});
