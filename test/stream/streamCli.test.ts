import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, describe, expect, it } from "vitest";
import { openHeadroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { RELAYED, relayStreamName } from "../../src/stream/jetstream.ts";
import { generatedEvents } from "../../src/stream/publisher.ts";
import { freshStreamName, natsConnection } from "../support/nats.ts";
import { runHeadroom, runToEnd } from "../support/server.ts";

const nats = await natsConnection();
if (nats.nc === null) console.warn(`SKIPPED: publishing a bad events file (${nats.reason})`);

describe("stream CLI refuses bad input with a plain message", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-stream-cli-"));
  const stream = freshStreamName();
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (nats.nc === null) return;
    const jsm = await jetstreamManager(nats.nc);
    for (const name of [stream, ...RELAYED.map((what) => relayStreamName(stream, what))])
      await jsm.streams.delete(name).catch(() => false);
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

  it("relay names a bad --publish list", async () => {
    const run = await runToEnd(["relay", "--publish", "decisions,letters"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("must be decisions, notices");
  });

  it.skipIf(nats.nc === null)(
    "relay --publish decisions,notices publishes both to their streams and stops on SIGTERM",
    async () => {
      const database = `sqlite:${join(dir, "relay.db")}`;
      const headroom = await openHeadroom({ databaseUrl: database });
      let counts: { decisions: number; notices: number };
      try {
        await ingestEvents(headroom, generatedEvents(1000, 3, Date.UTC(2026, 5, 1)));
        const count = async (kind: string) =>
          Number(
            (
              await headroom.store.db
                .selectFrom("ledger")
                .select((eb) => eb.fn.countAll().as("n"))
                .where("kind", "=", kind)
                .executeTakeFirstOrThrow()
            ).n,
          );
        counts = { decisions: await count("decision"), notices: await count("notice") };
      } finally {
        await headroom.close();
      }
      expect(counts.notices).toBeGreaterThan(0);
      const relay = runHeadroom([
        "--database",
        database,
        "relay",
        "--stream",
        stream,
        "--interval",
        "100",
        "--publish",
        "decisions,notices",
      ]);
      const exited = new Promise<number | null>((resolve) => relay.on("exit", (code) => resolve(code)));
      const jsm = await jetstreamManager(nats.nc as NonNullable<typeof nats.nc>);
      const stored = async () => {
        const n: Record<string, number> = {};
        for (const what of RELAYED)
          n[what] = await jsm.streams
            .info(relayStreamName(stream, what))
            .then((i) => i.state.messages)
            .catch(() => -1);
        return n;
      };
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && JSON.stringify(await stored()) !== JSON.stringify(counts))
        await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await stored()).toEqual(counts);
      relay.kill("SIGTERM");
      expect(await exited).toBe(0);
    },
    60_000,
  );
});
