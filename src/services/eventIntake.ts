import { setImmediate } from "node:timers/promises";
import type { CreditEvent } from "../engine/events.ts";
import { type IngestDeps, type IngestResult, ingestBatches, MAX_EVENTS_PER_TRANSACTION } from "./ingest.ts";
import type { Metrics } from "./metrics.ts";

const MAX_GATHER_ROUNDS = 8;

interface Waiting {
  events: readonly CreditEvent[];
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The front door for concurrent batches (HTTP requests, stream consumers). While one transaction
 * runs, arriving batches wait; the next transaction takes all of them together (group commit),
 * so a busy intake commits fewer, larger transactions and a quiet one commits each batch alone.
 */
export class EventIntake {
  private readonly waiting: Waiting[] = [];
  private draining = false;

  constructor(
    private readonly deps: IngestDeps,
    private readonly metrics?: Metrics,
  ) {}

  async submit(events: readonly CreditEvent[]): Promise<IngestResult> {
    const started = performance.now();
    const result = await new Promise<IngestResult>((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      if (!this.draining) void this.drain();
    });
    this.metrics?.recordBatch(result, (performance.now() - started) / 1000);
    return result;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        await this.gather();
        await this.commit(this.takeGroup());
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * A transaction never yields to I/O (the SQLite driver is synchronous), so requests that arrived
   * meanwhile are still unread. Let them in, for as long as more keep arriving (a few rounds at
   * most), before choosing the group.
   */
  private async gather(): Promise<void> {
    let seen = -1;
    for (let round = 0; round < MAX_GATHER_ROUNDS && this.waiting.length !== seen; round++) {
      seen = this.waiting.length;
      await setImmediate();
    }
  }

  private takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    let events = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as Waiting;
      if (group.length > 0 && events + next.events.length > MAX_EVENTS_PER_TRANSACTION) break;
      group.push(next);
      events += next.events.length;
      this.waiting.shift();
    }
    return group;
  }

  private async commit(group: Waiting[]): Promise<void> {
    try {
      const results = await ingestBatches(
        this.deps,
        group.map((w) => w.events),
      );
      group.forEach((w, i) => {
        w.resolve(results[i] as IngestResult);
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // One batch's failure must not fail the others: commit each alone to find out whose it is.
      for (const w of group) await this.commit([w]);
    }
  }
}
