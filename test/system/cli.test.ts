import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { runToEnd } from "../support/server.ts";

describe("headroom CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-cli-"));
  const file = join(dir, "cli.db");
  const database = `sqlite:${file}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("seeds a demo, verifies the ledger, then names the row after one ledger row is edited in the file", async () => {
    const demo = await runToEnd([
      "--database",
      database,
      "demo",
      "--borrowers",
      "200",
      "--months",
      "4",
      "--seed",
      "3",
    ]);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/demo: 200 borrowers from .* rows, \d+ events, \d+ decisions/);

    const ok = await runToEnd(["--database", database, "audit", "verify"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ledger ok: \d+ entries verified/);

    const db = new SQLite(file);
    db.prepare("update ledger set ref_id = ref_id || 'x' where seq = 17").run();
    db.close();
    const broken = await runToEnd(["--database", database, "audit", "verify"]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("BROKEN row 17");
    expect(broken.stdout).toContain("ledger verification FAILED");
  });

  it("reviews resumably and reports plain errors with a non-zero exit on bad input", async () => {
    const review = await runToEnd(["--database", database, "review", "--run-id", "cli-run"]);
    expect(review.code).toBe(0);
    expect(review.stdout).toMatch(/review cli-run: \d+ accounts reviewed/);
    const again = await runToEnd(["--database", database, "review", "--run-id", "cli-run"]);
    expect(again.stdout).toContain("review cli-run: 0 accounts reviewed");

    const bad = await runToEnd(["--database", database, "demo", "--borrowers", "lots"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("must be a whole number");
    const tooMany = await runToEnd(["--database", database, "demo", "--borrowers", "0"]);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain("borrowers must be a whole number from 1");
  });
});
