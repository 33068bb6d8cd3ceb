import type { CreditEvent } from "../engine/events.ts";
import type { ApiActionTable } from "../store/schema.ts";
import { GroupCommit } from "./groupCommit.ts";
import { type IngestDeps, type IngestResult, ingestBatches, MAX_EVENTS_PER_TRANSACTION } from "./ingest.ts";
import type { Metrics } from "./metrics.ts";

interface Batch {
  events: readonly CreditEvent[];
  sender?: ApiActionTable;
}

/**
 * The front door for concurrent batches (HTTP requests, stream consumers): batches that arrive
 * while a transaction runs commit together in the next one (group commit).
 */
export class EventIntake {
  private readonly batches: GroupCommit<Batch, IngestResult>;

  constructor(
    deps: IngestDeps,
    private readonly metrics?: Metrics,
  ) {
    this.batches = new GroupCommit(
      (group) =>
        ingestBatches(
          deps,
          group.map((b) => b.events),
          group.flatMap((b) => (b.sender === undefined ? [] : [b.sender])),
        ),
      MAX_EVENTS_PER_TRANSACTION,
      (batch) => batch.events.length,
    );
  }

  /** `sender`: the record of the request that sent the batch, to commit with it. */
  async submit(events: readonly CreditEvent[], sender?: ApiActionTable): Promise<IngestResult> {
    const started = performance.now();
    const result = await this.batches.submit(sender === undefined ? { events } : { events, sender });
    this.metrics?.recordBatch(result, (performance.now() - started) / 1000);
    return result;
  }
}
