import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { type CreditEvent, creditEvent } from "../engine/events.ts";
import { seededRandom } from "../engine/random.ts";
import { MS_PER_DAY } from "../engine/time.ts";
import { borrowerEvents } from "../services/demo/behaviour.ts";
import { syntheticProfile } from "../services/demo/borrowerProfiles.ts";
import { eventSubject, partitionOf } from "./partitions.ts";

/** Publishes in flight at once: enough to keep the server busy, few enough to bound memory. */
const PUBLISH_WINDOW = 2_000;

export interface PublishResult {
  published: number;
  /** Events the stream already held (same message id within its duplicate window). */
  duplicates: number;
}

/**
 * Puts events on their accounts' partitions, in the order given (one connection keeps the order).
 * The message id is the account and event id, so a publisher that retries after a failure does
 * not store an event twice; the worker's idempotency by event id covers anything older.
 */
export async function publishEvents(
  js: JetStreamClient,
  target: { stream: string; partitions: number },
  events: AsyncIterable<CreditEvent> | Iterable<CreditEvent>,
): Promise<PublishResult> {
  const result: PublishResult = { published: 0, duplicates: 0 };
  const inFlight = new Set<Promise<PubAck>>();
  for await (const event of events) {
    const subject = eventSubject(target.stream, partitionOf(event.accountId, target.partitions));
    const ack = js.publish(subject, JSON.stringify(event), { msgID: `${event.accountId}/${event.id}` });
    inFlight.add(ack);
    void ack.then(
      (a) => {
        inFlight.delete(ack);
        if (a.duplicate) result.duplicates++;
        else result.published++;
      },
      () => inFlight.delete(ack),
    );
    if (inFlight.size >= PUBLISH_WINDOW) await Promise.race(inFlight);
  }
  // Surfaces the first failed publish, if any.
  await Promise.all(inFlight);
  return result;
}

/** Events from a file of JSON lines, each checked; a bad line stops the publish, naming it. */
export async function* eventsFromFile(path: string): AsyncGenerator<CreditEvent> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${number}: not JSON`);
    }
    const parsed = creditEvent.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${path}:${number}: ${issue?.path.join(".") || "event"}: ${issue?.message}`);
    }
    yield parsed.data;
  }
}

/**
 * The demo's borrower behaviour (synthetic profiles) until `count` events, in time order: what a
 * core banking system would emit, for load tests. The same seed gives the same events.
 */
export function generatedEvents(count: number, seed: number, end: number): CreditEvent[] {
  const random = seededRandom(seed);
  const start = end - 6 * 30 * MS_PER_DAY;
  const events: CreditEvent[] = [];
  for (let i = 0; events.length < count; i++) {
    events.push(...borrowerEvents(i, syntheticProfile(random), random, start, 6, end));
  }
  const at = new Map(events.map((e) => [e, Date.parse(e.occurredAt)]));
  // Stable: an account's events at the same instant keep their order.
  events.sort((a, b) => (at.get(a) as number) - (at.get(b) as number));
  return events.slice(0, count);
}
