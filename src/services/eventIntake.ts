import type { CreditEvent } from "../engine/events.ts";
import { GroupCommit } from "./groupCommit.ts";
import { type IngestDeps, type IngestResult, ingestBatches, MAX_EVENTS_PER_TRANSACTION } from "./ingest.ts";
import type { Metrics } from "./metrics.ts";

/**
 * The front door for concurrent batches (HTTP requests, stream consumers): batches that arrive
 * while a transaction runs commit together in the next one (group commit).
 */
export class EventIntake {
  private readonly batches: GroupCommit<readonly CreditEvent[], IngestResult>;

  constructor(
    deps: IngestDeps,
    private readonly metrics?: Metrics,
  ) {
    this.batches = new GroupCommit(
      (group) => ingestBatches(deps, group),
      MAX_EVENTS_PER_TRANSACTION,
      (events) => events.length,
    );
  }

  async submit(events: readonly CreditEvent[]): Promise<IngestResult> {
    const started = performance.now();
    const result = await this.batches.submit(events);
    this.metrics?.recordBatch(result, (performance.now() - started) / 1000);
    return result;
  }
}
