/**
 * How events are spread over the stream: an account always lands in the same partition (its own
 * subject), so one consumer sees all of an account's events in the order they were published.
 */
export const DEFAULT_STREAM = "HEADROOM_EVENTS";
export const DEFAULT_PARTITIONS = 16;

/** FNV-1a, 32 bits: stable across processes and languages, and cheap. */
export function accountHash(accountId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function partitionOf(accountId: string, partitions: number): number {
  return accountHash(accountId) % partitions;
}

export function eventSubject(stream: string, partition: number): string {
  return `${stream}.${partition}`;
}

export function consumerName(partition: number): string {
  return `p${partition}`;
}

/**
 * Parses a partition list such as "0-7" or "0,2,4-6" against the stream's partition count.
 * Throws a message naming the bad part.
 */
export function parsePartitionList(spec: string, partitions: number): number[] {
  const chosen = new Set<number>();
  for (const part of spec.split(",").map((p) => p.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) throw new RangeError(`partition list: "${part}" is not N or N-M`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from > to || to >= partitions) {
      throw new RangeError(`partition list: "${part}" is outside 0-${partitions - 1}`);
    }
    for (let p = from; p <= to; p++) chosen.add(p);
  }
  return [...chosen].sort((a, b) => a - b);
}
