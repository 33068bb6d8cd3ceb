import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { demoPersonalData } from "../../src/services/demo/demoPersonalData.ts";
import { openHeadroom } from "../../src/services/headroom.ts";
import { parseMasterKey, readPersonalData } from "../../src/services/personalData.ts";
import { createKeyWithCli, freePort, runHeadroom, runToEnd, waitForHealthy } from "../support/server.ts";

describe("no plaintext personal data after the demo", () => {
  const dir = mkdtempSync(join(tmpdir(), "headroom-pii-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds no phone or ID number in the logs or the database files, though the API can show them", async () => {
    const database = `sqlite:${join(dir, "headroom.db")}`;
    const env = { HEADROOM_LOG_LEVEL: "debug" };
    const demo = await runToEnd(["--database", database, "demo", "--borrowers", "60", "--months", "3"], env);
    expect(demo.code, demo.stderr).toBe(0);
    const adminKey = /Bearer (hrk_[A-Za-z0-9_-]+)/.exec(demo.stdout)?.[1] as string;
    expect(adminKey).toBeDefined();

    const headroom = await openHeadroom({ databaseUrl: database });
    const borrowers = (await headroom.store.db.selectFrom("borrowers").select("id").execute()).map(
      (b) => b.id,
    );
    await headroom.close();
    expect(borrowers.length).toBe(60);
    const secrets = borrowers.flatMap((id) => {
      const data = demoPersonalData(id);
      return [data.phone, data.idNumber];
    });

    // Serve, and have staff and an admin read personal data through the API, with request logging on.
    const port = await freePort();
    const server = runHeadroom(
      ["--database", database, "serve", "--port", String(port), "--no-background"],
      env,
    );
    let logs = "";
    server.stdout?.on("data", (c) => {
      logs += String(c);
    });
    server.stderr?.on("data", (c) => {
      logs += String(c);
    });
    await waitForHealthy(port, server);
    const analystKey = await createKeyWithCli(database, "analyst", "a");
    const first = borrowers[0] as string;
    const read = async (key: string) =>
      (
        await fetch(`http://127.0.0.1:${port}/v1/borrowers/${first}/personal-data`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json() as Promise<{ masked: boolean; data: { phone: string } }>;
    const masked = await read(analystKey);
    expect(masked.masked).toBe(true);
    expect(secrets).not.toContain(masked.data.phone);
    expect((await read(adminKey)).data.phone).toBe(demoPersonalData(first).phone);
    server.kill("SIGTERM");
    await new Promise((resolve) => server.on("exit", resolve));

    const files = readdirSync(dir).filter((f) => f.startsWith("headroom.db"));
    expect(files).toContain("headroom.db");
    const haystacks = [
      ...files.map((f) => ({ name: f, text: readFileSync(join(dir, f)).toString("latin1") })),
      { name: "demo output", text: demo.stdout + demo.stderr },
      { name: "server log", text: logs },
    ];
    expect(logs).toContain("request completed");
    const found = haystacks.flatMap(({ name, text }) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${s} in ${name}`),
    );
    expect(found).toEqual([]);

    // Rotating the master key from the CLI re-wraps every borrower's key; the data reads under the new one.
    const next = randomBytes(32).toString("base64");
    const rotated = await runToEnd(["--database", database, "keys", "rotate-master"], {
      HEADROOM_NEW_MASTER_KEY: next,
    });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain("60 borrower keys re-wrapped");
    const reopened = await openHeadroom({ databaseUrl: database });
    try {
      expect(await readPersonalData(reopened.store, parseMasterKey(next), first)).toEqual(
        demoPersonalData(first),
      );
    } finally {
      await reopened.close();
    }
  });
});
