import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { consumerName, eventSubject } from "./partitions.ts";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Long enough for a slow group commit; a takeover does not wait for it (see positionConsumer). */
const ACK_WAIT_MS = 60_000;
/** At most this many delivered but unacknowledged events per partition. */
const MAX_ACK_PENDING = 20_000;
/** Publishers resend with the same message id within this window and the stream keeps one copy. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** Creates the event stream (one subject per partition) if it is not there yet. */
export async function ensureEventStream(jsm: JetStreamManager, stream: string): Promise<void> {
  await ensureStream(jsm, stream, `${stream}.*`);
}

/** What the relay publishes for downstream systems, each to a stream of its own. */
export type Relayed = "decisions" | "notices";
export const RELAYED: readonly Relayed[] = ["decisions", "notices"];

/** The stream downstream systems read decisions or notices from: `<events stream>_DECISIONS` / `_NOTICES`. */
export function relayStreamName(stream: string, what: Relayed): string {
  return `${stream}_${what.toUpperCase()}`;
}

/** Partitioned like the events: an account's messages all land on one subject, in order. */
export function relaySubject(stream: string, what: Relayed, partition: number): string {
  return `${relayStreamName(stream, what)}.${partition}`;
}

export async function ensureRelayStream(jsm: JetStreamManager, stream: string, what: Relayed): Promise<void> {
  await ensureStream(jsm, relayStreamName(stream, what), `${relayStreamName(stream, what)}.*`);
}

async function ensureStream(jsm: JetStreamManager, name: string, subject: string): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!isMissing(error)) throw error;
    await jsm.streams.add({
      name,
      subjects: [subject],
      storage: StorageType.File,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
  }
}

/**
 * Points the partition's durable consumer at its acknowledgement floor, for a worker that has just
 * taken the partition. Messages the previous owner had been handed but not acknowledged would
 * otherwise come back only after the ack wait, behind newer ones, and break per-account order; so the
 * consumer is recreated to deliver again, in order, from the first unacknowledged event. Events the
 * previous owner did commit come back too and are recognised as duplicates by their ids.
 */
export async function positionConsumer(
  jsm: JetStreamManager,
  stream: string,
  partition: number,
): Promise<void> {
  const name = consumerName(partition);
  let start = 1;
  try {
    const info = await jsm.consumers.info(stream, name);
    start = info.ack_floor.stream_seq + 1;
    await jsm.consumers.delete(stream, name);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  await jsm.consumers.add(stream, {
    durable_name: name,
    filter_subject: eventSubject(stream, partition),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: MAX_ACK_PENDING,
  });
}

/**
 * Events not yet acknowledged on a partition: waiting plus handed out; null while its consumer does
 * not exist (no worker has taken the partition yet, or a new owner is recreating it).
 */
export async function partitionLag(
  jsm: JetStreamManager,
  stream: string,
  partition: number,
): Promise<number | null> {
  try {
    const info = await jsm.consumers.info(stream, consumerName(partition));
    return info.num_pending + info.num_ack_pending;
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
