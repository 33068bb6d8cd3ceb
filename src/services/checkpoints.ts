import { chainHash, GENESIS_HASH } from "../engine/ledger.ts";
import {
  type Checkpoint,
  checkpointHash,
  inclusionPath,
  leafHash,
  merkleRoot,
  verifyInclusion,
} from "../engine/merkle.ts";
import type { Store } from "../store/connect.ts";
import type { LedgerCheckpointTable } from "../store/schema.ts";
import type { Mutex } from "./mutex.ts";

/** Ledger rows per checkpoint: a proof is then at most 10 hashes long. */
export const CHECKPOINT_BLOCK = 1024;

interface Deps {
  store: Store;
  clock: () => number;
  writeLock: Mutex;
}

const view = (c: LedgerCheckpointTable): Checkpoint & { hash: string } => ({
  id: c.id,
  fromSeq: c.from_seq,
  toSeq: c.to_seq,
  root: c.root,
  prevHash: c.prev_hash,
  createdAt: c.created_at,
  hash: c.hash,
});

/**
 * Seals every full block of ledger rows not yet checkpointed; with `partial`, the rows after the
 * last full block too (so a record just written can be proven at once). Returns how many it wrote.
 */
export async function checkpointLedger(deps: Deps, options: { partial?: boolean } = {}): Promise<number> {
  const db = deps.store.db;
  return deps.writeLock.run(async () => {
    let written = 0;
    for (;;) {
      const last = await db
        .selectFrom("ledger_checkpoints")
        .selectAll()
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      const fromSeq = (last?.to_seq ?? 0) + 1;
      const rows = await db
        .selectFrom("ledger")
        .select(["seq", "hash"])
        .where("seq", ">=", fromSeq)
        .orderBy("seq")
        .limit(CHECKPOINT_BLOCK)
        .execute();
      if (rows.length === 0 || (rows.length < CHECKPOINT_BLOCK && options.partial !== true)) break;
      const checkpoint: Checkpoint = {
        id: (last?.id ?? 0) + 1,
        fromSeq,
        toSeq: (rows[rows.length - 1] as { seq: number }).seq,
        root: merkleRoot(rows.map((r) => leafHash(r.hash))),
        prevHash: last?.hash ?? GENESIS_HASH,
        createdAt: deps.clock(),
      };
      await db
        .insertInto("ledger_checkpoints")
        .values({
          id: checkpoint.id,
          from_seq: checkpoint.fromSeq,
          to_seq: checkpoint.toSeq,
          root: checkpoint.root,
          prev_hash: checkpoint.prevHash,
          hash: checkpointHash(checkpoint),
          created_at: checkpoint.createdAt,
        })
        .execute();
      written++;
      if (rows.length < CHECKPOINT_BLOCK) break;
    }
    return written;
  });
}

export interface InclusionProof {
  entry: {
    seq: number;
    kind: string;
    refId: string;
    bodyHash: string;
    prevHash: string;
    recordedAt: number;
    hash: string;
  };
  checkpoint: Checkpoint & { hash: string };
  leafIndex: number;
  treeSize: number;
  path: string[];
}

/**
 * Inclusion proofs for every ledger row sealing `recordId` (an appeal has two: filed and
 * decided), each against the checkpoint covering it; checkpoints the tail first when needed.
 * Null when the ledger has no such record.
 */
export async function proveRecord(deps: Deps, recordId: string): Promise<InclusionProof[] | null> {
  const db = deps.store.db;
  const entries = await db
    .selectFrom("ledger")
    .selectAll()
    .where("ref_id", "=", recordId)
    .orderBy("seq")
    .execute();
  if (entries.length === 0) return null;
  const proofs: InclusionProof[] = [];
  for (const entry of entries) {
    const covering = () =>
      db
        .selectFrom("ledger_checkpoints")
        .selectAll()
        .where("to_seq", ">=", entry.seq)
        .orderBy("to_seq")
        .limit(1)
        .executeTakeFirst();
    let checkpoint = await covering();
    if (checkpoint === undefined) {
      await checkpointLedger(deps, { partial: true });
      checkpoint = await covering();
    }
    if (checkpoint === undefined || checkpoint.from_seq > entry.seq)
      throw new Error(`no checkpoint covers ledger row ${entry.seq}`);
    const rows = await db
      .selectFrom("ledger")
      .select(["seq", "hash"])
      .where("seq", ">=", checkpoint.from_seq)
      .where("seq", "<=", checkpoint.to_seq)
      .orderBy("seq")
      .execute();
    const leaves = rows.map((r) => leafHash(r.hash));
    const leafIndex = rows.findIndex((r) => r.seq === entry.seq);
    proofs.push({
      entry: {
        seq: entry.seq,
        kind: entry.kind,
        refId: entry.ref_id,
        bodyHash: entry.body_hash,
        prevHash: entry.prev_hash,
        recordedAt: entry.recorded_at,
        hash: entry.hash,
      },
      checkpoint: view(checkpoint),
      leafIndex,
      treeSize: leaves.length,
      path: inclusionPath(leaves, leafIndex),
    });
  }
  return proofs;
}

export interface CheckpointProblem {
  seq: number | null;
  refId: string | null;
  problem: string;
}

/**
 * Re-derives every checkpoint from the ledger as it is now. A rewritten stretch of history that
 * was re-chained consistently still breaks here, because the checkpoint roots were taken before.
 */
export async function verifyCheckpoints(store: Store): Promise<CheckpointProblem[]> {
  const db = store.db;
  const problems: CheckpointProblem[] = [];
  let prev: { id: number; to_seq: number; hash: string } = { id: 0, to_seq: 0, hash: GENESIS_HASH };
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom("ledger_checkpoints")
      .selectAll()
      .where("id", ">", after)
      .orderBy("id")
      .limit(64)
      .execute();
    if (page.length === 0) break;
    for (const c of page) {
      const name = `checkpoint ${c.id} (rows ${c.from_seq}..${c.to_seq})`;
      const at = (problem: string) =>
        problems.push({ seq: c.from_seq, refId: null, problem: `${name}: ${problem}` });
      if (c.id !== prev.id + 1 || c.from_seq !== prev.to_seq + 1 || c.prev_hash !== prev.hash)
        at("does not follow the checkpoint before it (a checkpoint was deleted, inserted or edited)");
      if (checkpointHash(view(c)) !== c.hash) at("was edited: its hash does not match its contents");
      const rows = await db
        .selectFrom("ledger")
        .select(["seq", "hash"])
        .where("seq", ">=", c.from_seq)
        .where("seq", "<=", c.to_seq)
        .orderBy("seq")
        .execute();
      if (rows.length !== c.to_seq - c.from_seq + 1)
        at(`covers ${c.to_seq - c.from_seq + 1} rows but ${rows.length} remain`);
      else if (merkleRoot(rows.map((r) => leafHash(r.hash))) !== c.root)
        at("root does not match the ledger rows it sealed (a row in the range was rewritten)");
      prev = c;
      after = c.id;
    }
  }
  return problems;
}

/** The same check scripts/verify-proof.mjs makes, for the service's own tests and callers. */
export function proofHolds(proof: InclusionProof): boolean {
  return (
    chainHash(proof.entry) === proof.entry.hash &&
    verifyInclusion(
      leafHash(proof.entry.hash),
      proof.leafIndex,
      proof.treeSize,
      proof.path,
      proof.checkpoint.root,
    ) &&
    checkpointHash(proof.checkpoint) === proof.checkpoint.hash
  );
}
