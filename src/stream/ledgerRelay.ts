import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { Store } from "../store/connect.ts";
import { type Relayed, relaySubject } from "./jetstream.ts";
import { partitionOf } from "./partitions.ts";

export const RELAY_PAGE = 1000;

/** A sealed record to publish: its id, whose it is, and what to say (the relay adds `ledgerSeq`). */
export interface RelayRecord {
  id: string;
  accountId: string;
  body: object;
}

/** A kind of sealed record the relay publishes (decisions, notices). */
export interface RelaySource {
  what: Relayed;
  /** The ledger kind that seals these records; also the prefix of their message ids. */
  sealKind: string;
  /** The job_cursors key holding how far this relay has published for an events stream. */
  job(stream: string): string;
  /** The records with these ids, in any order. */
  load(store: Store, ids: readonly string[]): Promise<RelayRecord[]>;
}

export interface RelayTarget {
  stream: string;
  partitions: number;
}

export interface RelayResult {
  /** Records the stream stored in this pass. */
  published: number;
  /** Records the stream already held under the same message id (a page sent again after a crash). */
  duplicates: number;
}

export interface RelayOptions {
  pageSize?: number;
  /** Stop after this many pages even if more are waiting (the next pass carries on). */
  maxPages?: number;
}

/**
 * Publishes a source's sealed records to `<stream>_<WHAT>`, on the account's partition, in ledger
 * order. The ledger is the commit order (its head row is locked by every writer), so a cursor on
 * its sequence misses nothing. The cursor moves only after the stream acknowledged the whole page;
 * a relay killed in between publishes the page again under the same message ids, which the stream
 * drops as duplicates within its window.
 */
export async function relayLedger(
  store: Store,
  js: JetStreamClient,
  source: RelaySource,
  target: RelayTarget,
  clock: () => number,
  options: RelayOptions = {},
): Promise<RelayResult> {
  const job = source.job(target.stream);
  const pageSize = options.pageSize ?? RELAY_PAGE;
  const result: RelayResult = { published: 0, duplicates: 0 };
  for (let pages = 0; pages < (options.maxPages ?? Number.POSITIVE_INFINITY); pages++) {
    const cursorRow = await store.db
      .selectFrom("job_cursors")
      .select("cursor")
      .where("job", "=", job)
      .executeTakeFirst();
    const seals = await store.db
      .selectFrom("ledger")
      .select(["seq", "ref_id"])
      .where("kind", "=", source.sealKind)
      .where("seq", ">", Number(cursorRow?.cursor ?? 0))
      .orderBy("seq")
      .limit(pageSize)
      .execute();
    if (seals.length === 0) break;
    const loaded = await source.load(
      store,
      seals.map((s) => s.ref_id),
    );
    const records = new Map(loaded.map((r) => [r.id, r]));
    const page = seals.map((s) => {
      const record = records.get(s.ref_id);
      if (record === undefined)
        throw new Error(`ledger row ${s.seq} seals ${source.sealKind} ${s.ref_id}, which is missing`);
      return { seq: s.seq, record };
    });
    // One connection keeps publish order, so an account's messages are stored in ledger order.
    // The same record always goes out under the same message id, so the stream drops a resend.
    // Each message is stored only right after the one before it in the page: were the stream to
    // refuse one, it refuses every later one too, so the retry stores them after it, never before.
    // (The stream drops a resend as a duplicate before it checks the expectation.)
    const msgId = (record: RelayRecord) => `${source.sealKind}/${record.id}`;
    const acks: Promise<PubAck>[] = page.map(({ seq, record }, i) => {
      const previous = page[i - 1];
      return js.publish(
        relaySubject(target.stream, source.what, partitionOf(record.accountId, target.partitions)),
        JSON.stringify({ ledgerSeq: seq, ...record.body }),
        previous === undefined
          ? { msgID: msgId(record) }
          : { msgID: msgId(record), expect: { lastMsgID: msgId(previous.record) } },
      );
    });
    for (const ack of await Promise.all(acks)) {
      if (ack.duplicate) result.duplicates++;
      else result.published++;
    }
    const cursor = String(seals[seals.length - 1]?.seq);
    const now = clock();
    await store.db
      .insertInto("job_cursors")
      .values({ job, cursor, updated_at: now })
      .onConflict((oc) => oc.column("job").doUpdateSet({ cursor, updated_at: now }))
      .execute();
  }
  return result;
}
