import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { chainHash } from "../../src/engine/ledger.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { checkpointLedger, proofHolds, proveRecord } from "../../src/services/checkpoints.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { NOTICE_BACKFILL_JOB, sealNoticesWrittenBeforeSealing } from "../../src/services/noticeBackfill.ts";
import { decisionBodyHash } from "../../src/services/writeSet.ts";
import { injectAs } from "../support/auth.ts";
import { due, inquiry, opened } from "../support/events.ts";
import { ROOT } from "../support/server.ts";
import { manualClock, storeTargets } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 200 * DAY;
const SCRIPT = join(ROOT, "scripts", "verify-proof.mjs");

/** Runs the standalone verifier on a proof document; returns its exit code and output. */
function runVerifier(proof: unknown, args: string[] = []): { code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "headroom-proof-"));
  const file = join(dir, "proof.json");
  writeFileSync(file, JSON.stringify(proof));
  try {
    return { code: 0, out: execFileSync(process.execPath, [SCRIPT, file, ...args], { encoding: "utf8" }) };
  } catch (error) {
    const e = error as { status: number; stdout: string };
    return { code: e.status, out: e.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const { target, skip } of await storeTargets("the ledger tamper tests")) {
  describe.skipIf(skip)(`ledger tamper detection and Merkle proofs on ${target.name}`, () => {
    let headroom: Headroom & { dispose(): Promise<void> };
    const ledger = () => headroom.store.db.selectFrom("ledger").selectAll().orderBy("seq").execute();

    beforeEach(async () => {
      headroom = await target.open(manualClock(NOW).now);
      // Two rounds with a checkpoint between, so there are two checkpoints to prove against.
      const events = [
        opened("t1", T0),
        opened("t2", T0),
        due("t2", "u1", T0 + 150 * DAY, T0 + 160 * DAY, 40_000),
      ];
      for (let i = 0; i < 6; i++) events.push(inquiry("t1", `qa${i}`, T0 + (100 + i) * DAY));
      await ingestEvents(headroom, events);
      await checkpointLedger(headroom, { partial: true });
      await ingestEvents(
        headroom,
        [0, 1, 2, 3, 4, 5, 6].map((i) => inquiry("t2", `qb${i}`, T0 + (170 + i) * DAY)),
      );
      await checkpointLedger(headroom, { partial: true });
      expect((await ledger()).length).toBeGreaterThan(10);
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);
    });
    afterEach(async () => {
      await headroom.dispose();
    });

    it("names an edited ledger row", async () => {
      await headroom.store.db.updateTable("ledger").set({ recorded_at: 1 }).where("seq", "=", 5).execute();
      const { ok, problems } = await verifyLedger(headroom.store);
      expect(ok).toBe(false);
      expect(problems).toContainEqual(
        expect.objectContaining({ seq: 5, problem: expect.stringContaining("edited") }),
      );
    });

    it("names a deleted ledger row, and the checkpoint that sealed it", async () => {
      await headroom.store.db.deleteFrom("ledger").where("seq", "=", 7).execute();
      const { problems } = await verifyLedger(headroom.store);
      expect(problems).toContainEqual(
        expect.objectContaining({ seq: 8, problem: expect.stringContaining("rows 7..7 are missing") }),
      );
      expect(problems.some((p) => /checkpoint \d+ \(rows \d+\.\.\d+\): covers/.test(p.problem))).toBe(true);
    });

    it("names an edited and a deleted notice, but not its delivery moving on", async () => {
      const sealed = (await ledger()).filter((r) => r.kind === "notice");
      const [edited, deleted] = sealed;
      if (edited === undefined || deleted === undefined) throw new Error("expected two sealed notices");
      // Delivery changes status, attempts and times: that is not tampering.
      await headroom.store.db
        .updateTable("outbox")
        .set({
          status: "delivered",
          attempts: 3,
          next_attempt_at: NOW + DAY,
          delivered_at: NOW,
          last_error: "x",
        })
        .execute();
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);

      await headroom.store.db
        .updateTable("outbox")
        .set({ payload: '{"kind":"line_changed","reasons":[]}' })
        .where("id", "=", edited.ref_id)
        .execute();
      await headroom.store.db.deleteFrom("outbox").where("id", "=", deleted.ref_id).execute();
      const { ok, problems } = await verifyLedger(headroom.store);
      expect(ok).toBe(false);
      expect(problems).toEqual([
        {
          seq: edited.seq,
          refId: edited.ref_id,
          problem: `notice ${edited.ref_id} was edited after it was sealed`,
        },
        { seq: deleted.seq, refId: deleted.ref_id, problem: `notice ${deleted.ref_id} was deleted` },
      ]);
    });

    it("names a notice written around Headroom; notices from before sealing are sealed once, when the store is opened", async () => {
      const [model] = await headroom.store.db.selectFrom("outbox").selectAll().limit(1).execute();
      if (model === undefined) throw new Error("expected a notice");
      const stray = (id: string) => ({ ...model, id, idempotency_key: `stray:${id}` });
      await headroom.store.db.insertInto("outbox").values(stray("ntc_stray")).execute();
      expect((await verifyLedger(headroom.store)).problems).toEqual([
        {
          seq: null,
          refId: "ntc_stray",
          problem: "notice ntc_stray is not in the ledger (inserted outside Headroom)",
        },
      ]);
      // Opening the store again does not seal it: the one backfill ran when the store was first opened.
      expect(await sealNoticesWrittenBeforeSealing(headroom.store, NOW)).toBe(0);
      expect((await verifyLedger(headroom.store)).ok).toBe(false);

      // A store from before notices were sealed: its notices have no seals and no backfill has run.
      await headroom.store.db.deleteFrom("job_cursors").where("job", "=", NOTICE_BACKFILL_JOB).execute();
      expect(await sealNoticesWrittenBeforeSealing(headroom.store, NOW)).toBe(1);
      expect((await verifyLedger(headroom.store)).problems).toEqual([]);
      await headroom.store.db.insertInto("outbox").values(stray("ntc_later")).execute();
      expect(await sealNoticesWrittenBeforeSealing(headroom.store, NOW)).toBe(0);
      expect((await verifyLedger(headroom.store)).problems.map((p) => p.refId)).toEqual(["ntc_later"]);
    });

    it("names reordered ledger rows", async () => {
      const [a, b] = (await ledger()).slice(2, 4);
      if (a === undefined || b === undefined) throw new Error("too few rows");
      const contents = (r: typeof a) => ({
        kind: r.kind,
        ref_id: r.ref_id,
        body_hash: r.body_hash,
        prev_hash: r.prev_hash,
        hash: r.hash,
        recorded_at: r.recorded_at,
      });
      await headroom.store.db.updateTable("ledger").set(contents(b)).where("seq", "=", a.seq).execute();
      await headroom.store.db.updateTable("ledger").set(contents(a)).where("seq", "=", b.seq).execute();
      const { problems } = await verifyLedger(headroom.store);
      const named = new Set(problems.map((p) => p.seq));
      expect(named.has(a.seq) && named.has(b.seq)).toBe(true);
      expect(problems).toContainEqual(
        expect.objectContaining({ seq: a.seq, problem: expect.stringContaining("does not link") }),
      );
    });

    it("catches history rewritten and re-chained consistently only through the checkpoint roots", async () => {
      // The forger edits a decision, fixes its seal, and re-hashes every later row and the head.
      const rows = await ledger();
      const victim = rows.find((r) => r.kind === "decision" && r.seq > 2) as (typeof rows)[number];
      const decision = await headroom.store.db
        .selectFrom("decisions")
        .selectAll()
        .where("id", "=", victim.ref_id)
        .executeTakeFirstOrThrow();
      const forged = { ...decision, to_limit: decision.to_limit + 1_000_000 };
      await headroom.store.db
        .updateTable("decisions")
        .set({ to_limit: forged.to_limit })
        .where("id", "=", forged.id)
        .execute();
      let prevHash = (rows.find((r) => r.seq === victim.seq - 1) as (typeof rows)[number]).hash;
      for (const row of rows.filter((r) => r.seq >= victim.seq)) {
        const bodyHash = row.seq === victim.seq ? decisionBodyHash(forged) : row.body_hash;
        const hash = chainHash({
          seq: row.seq,
          kind: row.kind,
          refId: row.ref_id,
          bodyHash,
          prevHash,
          recordedAt: row.recorded_at,
        });
        await headroom.store.db
          .updateTable("ledger")
          .set({ body_hash: bodyHash, prev_hash: prevHash, hash })
          .where("seq", "=", row.seq)
          .execute();
        prevHash = hash;
      }
      await headroom.store.db
        .updateTable("ledger_head")
        .set({ hash: prevHash })
        .where("id", "=", 1)
        .execute();
      const { problems } = await verifyLedger(headroom.store);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((p) => p.problem.startsWith("checkpoint"))).toBe(true);
      expect(problems[0]?.problem).toContain("root does not match");
    });

    it("serves a proof the standalone script accepts; a forged path or another published root fails", async () => {
      const app: FastifyInstance = await buildServer(headroom, { consoleDir: "/nonexistent" });
      try {
        const auditor = await injectAs(app, headroom, "auditor");
        const rows = await ledger();
        const decisionRow = rows.find((r) => r.kind === "decision" && r.seq > 1) as (typeof rows)[number];
        const response = await auditor({ method: "GET", url: `/v1/audit/proof/${decisionRow.ref_id}` });
        expect(response.statusCode).toBe(200);
        const proof = response.json();
        expect(proof.proofs[0].entry.seq).toBe(decisionRow.seq);
        expect(proofHolds(proof.proofs[0])).toBe(true);
        const published = proof.proofs[0].checkpoint.root as string;
        const ok = runVerifier(proof, ["--root", published]);
        expect(ok.out).toContain(`ok   record ${decisionRow.ref_id} row ${decisionRow.seq}`);
        expect(ok.code).toBe(0);

        // A forged proof (one path hash flipped) and a wrong published root both fail by name.
        const forged = structuredClone(proof);
        forged.proofs[0].path[0] = "0".repeat(64);
        expect(runVerifier(forged).out).toContain("the path does not lead to checkpoint");
        expect(runVerifier(proof, ["--root", "f".repeat(64)]).code).toBe(1);

        // Rows written after the last checkpoint are checkpointed on demand for their proof.
        await ingestEvents(headroom, [inquiry("t1", "late", NOW - DAY)]);
        const late = (await ledger()).at(-1) as (typeof rows)[number];
        const lateProofs = await proveRecord(headroom, late.ref_id);
        expect(lateProofs?.every(proofHolds)).toBe(true);
        expect((await auditor({ method: "GET", url: "/v1/audit/proof/no-such-record" })).statusCode).toBe(
          404,
        );
      } finally {
        await app.close();
      }
    });
  });
}
