import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { whatIfOptions } from "../../src/cli/simulateCommand.ts";
import { DEFAULT_POLICY_PATH } from "../../src/services/policyFiles.ts";
import { runToEnd } from "../support/server.ts";

const DAY = 86_400_000;

describe("simulate's what-if options", () => {
  it("reads --stress and --region-factor REGION=FACTOR, refusing what a setting would refuse", () => {
    expect(whatIfOptions(undefined, undefined)).toBeUndefined();
    expect(whatIfOptions("0.9", ["west=0.8", "east=1.2"])).toEqual({
      stress: 0.9,
      regions: { west: 0.8, east: 1.2 },
    });
    expect(() => whatIfOptions(undefined, ["west=0.2"])).toThrow(
      "--region-factor west must be between 0.5 and 1.5, got 0.2",
    );
    expect(() => whatIfOptions(undefined, ["mars=0.9"])).toThrow("--region-factor region must be one of");
    expect(() => whatIfOptions(undefined, ["west"])).toThrow("--region-factor takes REGION=FACTOR");
    expect(() => whatIfOptions("", undefined)).toThrow('--stress must be a number, got ""');
  });
});

describe("headroom simulate on a demo book", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-simulate-"));
  const database = `sqlite:${join(dir, "sim.db")}`;
  const candidate = join(dir, "freeze-at-10.yaml");
  beforeAll(async () => {
    writeFileSync(
      candidate,
      readFileSync(DEFAULT_POLICY_PATH, "utf8")
        .replace("version: policy-1", "version: freeze-at-10")
        .replace(
          'when: ["dpd >= 30", "frozen == 0", "closed == 0"]',
          'when: ["dpd >= 10", "frozen == 0", "closed == 0"]',
        ),
    );
    const demo = await runToEnd(["--database", database, "demo", "--borrowers", "300", "--months", "4"]);
    expect(demo.code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("simulates a candidate on the book and writes the filtered who-is-hit list", async () => {
    const csv = join(dir, "hits.csv");
    const run = await runToEnd([
      "--database",
      database,
      "simulate",
      "--policy",
      candidate,
      "--csv",
      csv,
      "--only-action",
      "freeze",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /simulation sim_freeze-at-10_\S+: freeze-at-10\/\S+ against policy-1\/\S+ on \d+ open lines of the book/,
    );
    expect(run.stdout).toContain("expected loss:");
    expect(run.stdout).toContain("score PSI");
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    expect(rows[0]).toContain("account_id,region,segment,current_action,candidate_action");
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.slice(1).every((r) => r.split(",")[4] === "freeze")).toBe(true);
  });

  it("replays the book as of a past date and reports wrongful cuts", async () => {
    const asOf = new Date(Date.now() - 45 * DAY).toISOString().slice(0, 10);
    const run = await runToEnd(["--database", database, "simulate", "--policy", candidate, "--as-of", asOf]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`the history replayed as of ${asOf}`);
    expect(run.stdout).toMatch(
      /wrongful cuts \(cut, then never 30\+ \/ 60\+ dpd\): current \d+ \/ \d+ of \d+; candidate \d+ \/ \d+ of \d+/,
    );
  });

  it("runs a what-if stress and region factors on the candidate only, and says so", async () => {
    const run = await runToEnd([
      "--database",
      database,
      "simulate",
      "--stress",
      "0.8",
      "--region-factor",
      "west=0.9",
      "east=1.1",
    ]);
    expect(run.code).toBe(0);
    // No candidate policy or model: the ones in force, under the what-if measures.
    expect(run.stdout).toMatch(/simulation sim_policy-1_\S+: policy-1\/(\S+) against policy-1\/\1 /);
    expect(run.stdout).toContain(
      "class-wide measures: current none; candidate stress 0.8, west 0.9, east 1.1 (what-if)",
    );
    const marked = run.stdout.match(/decided by a class-wide measure: current 0, candidate (\d+)/);
    expect(Number(marked?.[1])).toBeGreaterThan(0);
    const hits = Number(run.stdout.match(/who is hit: (\d+) accounts/)?.[1]);
    expect(hits).toBeGreaterThan(0);
  });

  it("compares cutting lines with offering relief under stress, with its assumptions", async () => {
    const run = await runToEnd([
      "--database",
      database,
      "simulate",
      "stress",
      "--pd-multiplier",
      "1.5",
      "--region",
      "east",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^stress: PD x1.5 in east/);
    expect(run.stdout).toContain("A cut lines");
    expect(run.stdout).toContain("B offer relief");
    expect(run.stdout).toContain("assumptions:");
    expect(run.stdout).not.toContain("west:");
  });

  it("refuses bad input with a plain message and a non-zero exit", async () => {
    for (const [args, message] of [
      [["simulate"], "name a candidate"],
      [["simulate", "--policy", "no-such-version"], "neither a stored policy version nor a file"],
      [["simulate", "--policy", candidate, "--as-of", "soon"], "--as-of must be an ISO date"],
      [["simulate", "--stress", "3"], "--stress must be between 0.5 and 1.5, got 3"],
      [["simulate", "--policy", candidate, "--stress", "lots"], '--stress must be a number, got "lots"'],
      [["simulate", "stress", "--pd-multiplier", "-1"], "--pd-multiplier must be a number above 0"],
      [
        ["simulate", "stress", "--pd-multiplier", "2", "--relief", "rate_reduction:100"],
        "a rate cut is not modelled",
      ],
    ] as const) {
      const run = await runToEnd(["--database", database, ...args]);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toContain(message);
    }
  });
});
