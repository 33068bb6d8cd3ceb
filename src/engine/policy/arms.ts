/**
 * Champion / challenger assignment: a deterministic hash of the account id puts each account in
 * one of 10,000 buckets; buckets below share x 10,000 go to the challenger. The same account stays
 * in the same arm for as long as the share does not shrink below its bucket.
 */
export type Arm = "champion" | "challenger";

const BUCKETS = 10_000;

/** FNV-1a, 32-bit, over the UTF-16 code units of the id. */
export function accountBucket(accountId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export function armOf(accountId: string, challengerShare: number): Arm {
  return accountBucket(accountId) < Math.round(challengerShare * BUCKETS) ? "challenger" : "champion";
}
