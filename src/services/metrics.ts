import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { IngestResult } from "./ingest.ts";

/**
 * The process's Prometheus metrics. Each Headroom has its own registry (tests open many in one
 * process); the CLI adds the default process metrics to it and serves it at /metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly events = new Counter({
    name: "headroom_events_total",
    help: "Events through the intake (HTTP and stream alike), by outcome",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  private readonly decisions = new Counter({
    name: "headroom_decisions_total",
    help: "Decisions recorded for triggering events",
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "headroom_decision_latency_seconds",
    help: "From a batch's arrival at the intake to the commit of its events and decisions",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  recordBatch(result: IngestResult, seconds: number): void {
    this.events.inc({ status: "accepted" }, result.accepted);
    this.events.inc({ status: "duplicate" }, result.duplicates);
    this.events.inc({ status: "rejected" }, result.rejected);
    this.decisions.inc(result.decisions);
    this.latency.observe(seconds);
  }

  /** A gauge read when scraped (queries, stream state), so it is never stale and costs nothing idle. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (set: (value: number, labels?: Partial<Record<L, string>>) => void) => Promise<void>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read((value, labels) => (labels === undefined ? this.set(value) : this.set(labels, value)));
      },
    });
  }
}
