import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { Store } from "../store/connect.ts";
import { type Relayed, relaySubject } from "./jetstream.ts";
import { partitionOf } from "./partitions.ts";

export const RELAY_PAGE = 1000;

/** One sealed record ready to publish: where the ledger sealed it, whose it is, and what to send. */
export interface RelayRow {
  seq: number;
  accountId: string;
  /** The JetStream message id: the same record always goes out under the same id. */
  msgId: string;
  message: unknown;
}

/** A kind of sealed record the relay publishes (decisions, notices), read in ledger order. */
export interface RelaySource {
  what: Relayed;
  /** The job_cursors key holding how far this relay has published for an events stream. */
  job(stream: string): string;
  /** Up to `limit` records sealed after ledger position `after`, in ledger order. */
  page(store: Store, after: number, limit: number): Promise<RelayRow[]>;
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
    const rows = await source.page(store, Number(cursorRow?.cursor ?? 0), pageSize);
    if (rows.length === 0) break;
    // One connection keeps publish order, so an account's messages are stored in ledger order.
    const acks: Promise<PubAck>[] = rows.map((r) =>
      js.publish(
        relaySubject(target.stream, source.what, partitionOf(r.accountId, target.partitions)),
        JSON.stringify(r.message),
        { msgID: r.msgId },
      ),
    );
    for (const ack of await Promise.all(acks)) {
      if (ack.duplicate) result.duplicates++;
      else result.published++;
    }
    const cursor = String(rows[rows.length - 1]?.seq);
    const now = clock();
    await store.db
      .insertInto("job_cursors")
      .values({ job, cursor, updated_at: now })
      .onConflict((oc) => oc.column("job").doUpdateSet({ cursor, updated_at: now }))
      .execute();
  }
  return result;
}
