import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dataDirectory } from "../../src/services/dataset.ts";
import { runToEnd } from "../support/server.ts";

const german = join(dataDirectory(), "german-credit.csv");
if (!existsSync(german)) console.warn(`SKIPPED: model CLI test (${german} not found; set HEADROOM_DATA_DIR)`);

describe.skipIf(!existsSync(german))("headroom model CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-model-"));
  const database = `sqlite:${join(dir, "m.db")}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trains on a real CSV, prints the validation report, registers a draft and refuses self-approval", async () => {
    const train = await runToEnd([
      "--database",
      database,
      "model",
      "train",
      "--data",
      german,
      "--target",
      "class",
      "--bad",
      "2",
      "--version",
      "german-1",
      "--author",
      "ana",
    ]);
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/validation on 300 held-out rows \(90 bad\): AUC 0\.\d{4}/);
    expect(train.stdout).toMatch(/checking_status +IV \d\.\d{4} +used/);
    expect(train.stdout).toContain("registered draft german-1");
    const auc = Number(/AUC (0\.\d{4})/.exec(train.stdout)?.[1]);
    expect(auc).toBeGreaterThan(0.7);

    const report = await runToEnd(["--database", database, "model", "report", "german-1"]);
    expect(report.stdout).toContain("new -> draft  by ana");

    await runToEnd([
      "--database",
      database,
      "model",
      "validate",
      "german-1",
      "--actor",
      "ana",
      "--reason",
      "reviewed",
    ]);
    const self = await runToEnd([
      "--database",
      database,
      "model",
      "approve",
      "german-1",
      "--actor",
      "ana",
      "--reason",
      "ok",
    ]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain("a second person must approve it");

    const missing = await runToEnd([
      "--database",
      database,
      "model",
      "train",
      "--data",
      german,
      "--target",
      "nope",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no column named "nope"');
  });
});
