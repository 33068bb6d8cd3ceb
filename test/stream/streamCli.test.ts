import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, describe, expect, it } from "vitest";
import { freshStreamName, natsConnection } from "../support/nats.ts";
import { runToEnd } from "../support/server.ts";

const nats = await natsConnection();
if (nats.nc === null) console.warn(`SKIPPED: publishing a bad events file (${nats.reason})`);

describe("stream CLI refuses bad input with a plain message", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-stream-cli-"));
  const stream = freshStreamName();
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (nats.nc === null) return;
    await (await jetstreamManager(nats.nc)).streams.delete(stream).catch(() => false);
    await nats.nc.drain();
  });

  it("worker needs PostgreSQL", async () => {
    const run = await runToEnd(["--database", `sqlite:${join(dir, "w.db")}`, "worker"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("worker: needs PostgreSQL");
  });

  it("worker names a bad partition list", async () => {
    const run = await runToEnd([
      "--database",
      `sqlite:${join(dir, "w.db")}`,
      "worker",
      "--partitions",
      "3-99",
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('"3-99" is outside 0-15');
  });

  it.skipIf(nats.nc === null)("publish names the bad line of an events file", async () => {
    const file = join(dir, "events.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ id: "e1", accountId: "a1", type: "login", occurredAt: "nope", data: {} })}\n`,
    );
    const run = await runToEnd(["publish", file, "--stream", stream]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/events\.jsonl:1: occurredAt/);
  });

  it("publish wants a file or --generate", async () => {
    const run = await runToEnd(["publish"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("give either a file or --generate");
  });
});
