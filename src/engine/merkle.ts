import { createHash } from "node:crypto";

/**
 * Merkle trees over ledger entry hashes, as RFC 9162 (Certificate Transparency 2.0) defines them:
 * leaves and interior nodes are hashed with different prefixes (0x00, 0x01) so a node can never
 * pass for a leaf, and a tree of n leaves splits at the largest power of two below n.
 * scripts/verify-proof.mjs repeats `verifyInclusion` with node:crypto alone; keep them in step.
 */
function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(entryHash: string): string {
  return sha256(LEAF, Buffer.from(entryHash, "hex")).toString("hex");
}

function nodeHash(left: string, right: string): string {
  return sha256(NODE, Buffer.from(left, "hex"), Buffer.from(right, "hex")).toString("hex");
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root over leaf hashes (already `leafHash`ed). */
export function merkleRoot(leaves: readonly string[]): string {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  if (leaves.length === 1) return leaves[0] as string;
  const k = split(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** The audit path of leaf `index`: sibling hashes from the leaf up to the root. */
export function inclusionPath(leaves: readonly string[], index: number): string[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is outside the tree`);
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionPath(leaves.slice(0, k), index), merkleRoot(leaves.slice(k))]
    : [...inclusionPath(leaves.slice(k), index - k), merkleRoot(leaves.slice(0, k))];
}

/** RFC 9162 section 2.1.3.2: does `path` lead from this leaf at `index` of `size` to `root`? */
export function verifyInclusion(
  leaf: string,
  index: number,
  size: number,
  path: readonly string[],
  root: string,
): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r === root;
}

export interface Checkpoint {
  id: number;
  fromSeq: number;
  toSeq: number;
  root: string;
  /** The previous checkpoint's hash (genesis: 64 zeros), so checkpoints form a chain of their own. */
  prevHash: string;
  createdAt: number;
}

export function checkpointHash(c: Checkpoint): string {
  return createHash("sha256")
    .update(`${c.prevHash}\n${c.id}\n${c.fromSeq}\n${c.toSeq}\n${c.root}\n${c.createdAt}`)
    .digest("hex");
}
