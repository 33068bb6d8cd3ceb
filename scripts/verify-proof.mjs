#!/usr/bin/env node
// Checks a Headroom inclusion proof with node:crypto alone, trusting nothing Headroom computed:
//   curl -H "Authorization: Bearer $KEY" http://127.0.0.1:8080/v1/audit/proof/<recordId> > proof.json
//   node scripts/verify-proof.mjs proof.json [--root <published checkpoint root>]
// For each ledger row of the record it recomputes the row's chain hash from its fields, walks the
// Merkle path (RFC 9162 2.1.3.2) up to the checkpoint root and recomputes the checkpoint's hash.
// Exits 0 when every proof holds, 1 naming what failed.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const hex = (s) => Buffer.from(s, "hex");
const node = (l, r) => sha256(Buffer.from([1]), hex(l), hex(r)).toString("hex");

function rootFromPath(leaf, index, size, path) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = node(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

const [file, flag, published] = process.argv.slice(2);
if (file === undefined || (flag !== undefined && (flag !== "--root" || published === undefined))) {
  process.stderr.write("usage: node scripts/verify-proof.mjs proof.json [--root <hex>]\n");
  process.exit(2);
}
const { recordId, proofs } = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
let failed = 0;
for (const { entry: e, checkpoint: c, leafIndex, treeSize, path } of proofs) {
  const name = `record ${recordId} row ${e.seq} (${e.kind})`;
  const fail = (why) => {
    failed++;
    process.stdout.write(`FAIL ${name}: ${why}\n`);
  };
  const chain = sha256(
    `${e.prevHash}\n${e.seq}\n${e.kind}\n${e.refId}\n${e.bodyHash}\n${e.recordedAt}`,
  ).toString("hex");
  const cpHash = sha256(
    `${c.prevHash}\n${c.id}\n${c.fromSeq}\n${c.toSeq}\n${c.root}\n${c.createdAt}`,
  ).toString("hex");
  const leaf = sha256(Buffer.from([0]), hex(e.hash)).toString("hex");
  if (e.refId !== recordId) fail(`proves ${e.refId}, not ${recordId}`);
  else if (chain !== e.hash) fail("the row's hash does not match its fields");
  else if (rootFromPath(leaf, leafIndex, treeSize, path) !== c.root)
    fail(`the path does not lead to checkpoint ${c.id}'s root`);
  else if (cpHash !== c.hash) fail(`checkpoint ${c.id}'s hash does not match its fields`);
  else if (published !== undefined && published !== c.root)
    fail(`checkpoint ${c.id}'s root is not the published one`);
  else
    process.stdout.write(
      `ok   ${name} is leaf ${leafIndex} of ${treeSize} under checkpoint ${c.id} root ${c.root}\n`,
    );
}
process.exit(failed === 0 && proofs.length > 0 ? 0 : 1);
