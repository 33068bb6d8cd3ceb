import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { type CreditEvent, creditEvent, MAX_EVENTS_PER_BATCH } from "../engine/events.ts";
import type { Headroom } from "../services/headroom.ts";
import { ensureEventStream, partitionLag, positionConsumer } from "./jetstream.ts";
import { LeaseLostError, type PartitionLeases } from "./partitionLeases.ts";
import { consumerName } from "./partitions.ts";

export interface WorkerOptions {
  stream: string;
  /** Partitions in the stream (fixed when it was created; every worker must agree). */
  partitions: number;
  /** Partitions this worker takes as soon as they are free. */
  preferred: readonly number[];
  /** A free partition outside `preferred` is taken once it has been free this long (its owner died). */
  takeoverAfterMs: number;
  /** How often free partitions are looked for. */
  leaseIntervalMs: number;
}

/** How long a fetch waits for a partition's next events before asking again. */
const FETCH_EXPIRES_MS = 1000;
const RETRY_AFTER_MS = 1000;

/**
 * Consumes the event stream into the same intake the HTTP endpoint uses, so effects are identical.
 * Per owned partition, one loop: fetch up to 1,000 events in stream order, submit them, and only
 * after the commit acknowledge them. A partition's next batch is fetched only after the previous
 * one committed, so an account's events are applied in the order they were published; a replayed
 * event is a duplicate by its id, so a redelivery after a crash changes nothing.
 */
export class StreamWorker {
  private readonly owned = new Map<number, Promise<void>>();
  private readonly freeSince = new Map<number, number>();
  private stopping = false;
  /** A lease pass is running; the timer skips a tick rather than run two at once. */
  private claiming = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly js: JetStreamClient;
  private jsm!: JetStreamManager;

  constructor(
    private readonly headroom: Headroom,
    private readonly nc: NatsConnection,
    private readonly leases: PartitionLeases,
    private readonly options: WorkerOptions,
    private readonly logger: Logger,
    /** Called once when the worker must stop at once (lease or connection lost): the process exits. */
    private readonly onFatal: (error: unknown) => void,
  ) {
    this.js = jetstream(nc);
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.nc);
    await ensureEventStream(this.jsm, this.options.stream);
    this.headroom.metrics.gauge(
      "headroom_stream_lag",
      "Events on the stream not yet acknowledged, per partition this worker owns",
      ["partition"],
      async (set) => {
        for (const partition of this.owned.keys()) {
          const lag = await partitionLag(this.jsm, this.options.stream, partition);
          if (lag !== null) set(lag, { partition: String(partition) });
        }
      },
    );
    this.headroom.metrics.gauge(
      "headroom_stream_partitions_owned",
      "Partitions this worker holds",
      [],
      async (set) => set(this.owned.size),
    );
    void this.nc.closed().then((error) => {
      if (!this.stopping) this.onFatal(error ?? new Error("NATS connection closed"));
    });
    await this.leases.want(this.options.preferred);
    await this.claimFree();
    this.leaseTimer = setInterval(() => void this.claimFree(), this.options.leaseIntervalMs);
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Stops fetching, lets the batches in flight commit and be acknowledged, then frees the partitions. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.leaseTimer);
    await Promise.all(this.owned.values());
    await this.nc.flush();
  }

  private async claimFree(): Promise<void> {
    if (this.claiming || this.stopping) return;
    this.claiming = true;
    try {
      await this.leases.verify();
      const now = Date.now();
      for (let partition = 0; partition < this.options.partitions; partition++) {
        if (this.owned.has(partition)) continue;
        if (!this.options.preferred.includes(partition)) {
          if (await this.leases.wantedElsewhere(partition)) {
            this.freeSince.delete(partition);
            continue;
          }
          const since = this.freeSince.get(partition) ?? now;
          this.freeSince.set(partition, since);
          if (now - since < this.options.takeoverAfterMs) {
            // Only look: a lock test that succeeds is released at once, so its preferred owner
            // can still take it while the grace runs.
            if (!(await this.isFree(partition))) this.freeSince.delete(partition);
            continue;
          }
        }
        if (await this.leases.tryAcquire(partition)) {
          this.freeSince.delete(partition);
          this.owned.set(partition, this.consume(partition));
        }
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.claiming = false;
    }
  }

  private async isFree(partition: number): Promise<boolean> {
    if (!(await this.leases.tryAcquire(partition))) return false;
    await this.leases.release(partition);
    return true;
  }

  private async consume(partition: number): Promise<void> {
    const log = this.logger.child({ partition });
    try {
      await positionConsumer(this.jsm, this.options.stream, partition);
      const consumer = await this.js.consumers.get(this.options.stream, consumerName(partition));
      log.info("partition taken");
      while (!this.stopping) {
        const messages: JsMsg[] = [];
        for await (const message of await consumer.fetch({
          max_messages: MAX_EVENTS_PER_BATCH,
          expires: FETCH_EXPIRES_MS,
        })) {
          messages.push(message);
        }
        if (messages.length > 0) await this.apply(messages, log);
        if (!this.options.preferred.includes(partition) && (await this.leases.wantedElsewhere(partition))) {
          // Its preferred worker is back: hand it over at a batch boundary, acks sent first.
          await this.nc.flush();
          log.info("partition handed back");
          break;
        }
      }
    } catch (error) {
      if (error instanceof LeaseLostError) return this.fail(error);
      // Anything else (the store or stream briefly unavailable): give the partition up and take it
      // again on a later pass, which restarts delivery from the first unacknowledged event.
      log.error({ err: error }, "partition loop failed; releasing it");
      await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
    }
    this.owned.delete(partition);
    await this.leases.release(partition).catch((error: unknown) => this.fail(error));
  }

  private async apply(messages: JsMsg[], log: Logger): Promise<void> {
    const events: CreditEvent[] = [];
    const valid: JsMsg[] = [];
    for (const message of messages) {
      const parsed = creditEvent.safeParse(parseJson(message));
      if (parsed.success) {
        events.push(parsed.data);
        valid.push(message);
      } else {
        // Redelivering a malformed event would fail the same way forever.
        log.warn({ seq: message.seq, issues: parsed.error.issues }, "malformed event terminated");
        message.term("malformed event");
      }
    }
    if (events.length > 0) await this.headroom.intake.submit(events);
    for (const message of valid) message.ack();
  }

  private fail(error: unknown): void {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.leaseTimer);
    this.onFatal(error);
  }
}

function parseJson(message: JsMsg): unknown {
  try {
    return message.json();
  } catch {
    return undefined;
  }
}
