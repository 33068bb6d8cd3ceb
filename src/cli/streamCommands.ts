import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { collectDefaultMetrics } from "prom-client";
import { buildOpsServer } from "../api/opsServer.ts";
import { openHeadroom } from "../services/headroom.ts";
import { decisionSource } from "../stream/decisionRelay.ts";
import {
  DEFAULT_NATS_URL,
  ensureEventStream,
  ensureRelayStream,
  RELAYED,
  type Relayed,
  relayStreamName,
} from "../stream/jetstream.ts";
import { type RelaySource, relayLedger } from "../stream/ledgerRelay.ts";
import { noticeSource } from "../stream/noticeRelay.ts";
import { PartitionLeases } from "../stream/partitionLeases.ts";
import { DEFAULT_PARTITIONS, DEFAULT_STREAM, parsePartitionList } from "../stream/partitions.ts";
import { eventsFromFile, generatedEvents, publishEvents } from "../stream/publisher.ts";
import { StreamWorker } from "../stream/worker.ts";

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

const RELAY_SOURCES: Record<Relayed, RelaySource> = { decisions: decisionSource, notices: noticeSource };

function relayedList(value: string): Relayed[] {
  const chosen = value.split(",").map((v) => v.trim());
  const unknown = chosen.filter((v) => !(RELAYED as readonly string[]).includes(v));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`must be ${RELAYED.join(", ")} or both, comma separated`);
  return [...new Set(chosen as Relayed[])];
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError("must be a port");
  return n;
}

interface StreamOptions {
  nats: string;
  stream: string;
  partitionCount: number;
}

function streamOptions(command: Command): Command {
  return command
    .option("--nats <url>", "NATS server", process.env.HEADROOM_NATS_URL ?? DEFAULT_NATS_URL)
    .option("--stream <name>", "JetStream stream of events", DEFAULT_STREAM)
    .option(
      "--partition-count <n>",
      "partitions in the stream (all workers and publishers agree)",
      positive,
      DEFAULT_PARTITIONS,
    );
}

export function addStreamCommands(program: Command, globals: () => { database?: string }): void {
  streamOptions(
    program
      .command("worker")
      .description(
        "consume events from NATS JetStream into PostgreSQL; several workers share the partitions",
      ),
  )
    .option("--partitions <list>", 'partitions this worker prefers, e.g. "0-7" (default: all)')
    .option("--takeover-after <ms>", "take a free partition outside the list after this long", positive, 3000)
    .option("--ops-port <n>", "port for /healthz, /readyz and /metrics (0: none)", port, 0)
    .option("--ops-host <host>", "interface for the ops port", "127.0.0.1")
    .action(
      (
        opts: StreamOptions & {
          partitions?: string;
          takeoverAfter: number;
          opsPort: number;
          opsHost: string;
        },
      ) => runWorker(globals().database, opts),
    );

  streamOptions(
    program
      .command("relay")
      .description(
        "publish committed decisions (and notices), in commit order, to <stream>_DECISIONS (and <stream>_NOTICES)",
      ),
  )
    .option("--interval <ms>", "pause between passes", positive, 500)
    .option("--publish <list>", `what to publish: ${RELAYED.join(", ")}, comma separated`, relayedList, [
      "decisions",
    ] as Relayed[])
    .action((opts: StreamOptions & { interval: number; publish: Relayed[] }) =>
      runRelay(globals().database, opts),
    );

  streamOptions(
    program
      .command("publish")
      .description("put events on the stream, from a file of JSON lines or generated demo behaviour"),
  )
    .argument("[file]", "events, one JSON object per line")
    .option("--generate <n>", "publish n generated events instead of a file", positive)
    .option("--seed <n>", "seed for --generate", positive, 7)
    .action(async (file: string | undefined, opts: StreamOptions & { generate?: number; seed: number }) => {
      if ((file === undefined) === (opts.generate === undefined)) {
        throw new Error("publish: give either a file or --generate <n>");
      }
      const nc = await connect({ servers: opts.nats, name: "headroom-publish" });
      try {
        await ensureEventStream(await jetstreamManager(nc), opts.stream);
        const events =
          file !== undefined
            ? eventsFromFile(file)
            : generatedEvents(opts.generate as number, opts.seed, Date.now());
        const started = performance.now();
        const result = await publishEvents(
          jetstream(nc),
          { stream: opts.stream, partitions: opts.partitionCount },
          events,
        );
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(
          `published ${result.published} events to ${opts.stream} in ${seconds.toFixed(1)} s ` +
            `(${Math.round(result.published / seconds)}/s); ${result.duplicates} already there\n`,
        );
      } finally {
        await nc.drain();
      }
    });
}

async function runRelay(
  databaseUrl: string | undefined,
  opts: StreamOptions & { interval: number; publish: Relayed[] },
): Promise<void> {
  const logger = pino({ level: process.env.HEADROOM_LOG_LEVEL ?? "info" });
  const headroom = await openHeadroom(databaseUrl === undefined ? {} : { databaseUrl });
  const nc = await connect({ servers: opts.nats, name: `headroom-relay-${process.pid}` });
  const jsm = await jetstreamManager(nc);
  for (const what of opts.publish) await ensureRelayStream(jsm, opts.stream, what);
  const js = jetstream(nc);
  logger.info({ streams: opts.publish.map((what) => relayStreamName(opts.stream, what)) }, "relay started");
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  while (!stopped) {
    for (const what of opts.publish) {
      try {
        const result = await relayLedger(
          headroom.store,
          js,
          RELAY_SOURCES[what],
          { stream: opts.stream, partitions: opts.partitionCount },
          headroom.clock,
        );
        if (result.published + result.duplicates > 0) logger.info({ ...result }, `${what} published`);
      } catch (error) {
        logger.error({ err: error }, `relay pass over ${what} failed; will retry`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, opts.interval));
  }
  await nc.drain();
  await headroom.close();
}

async function runWorker(
  databaseUrl: string | undefined,
  opts: StreamOptions & { partitions?: string; takeoverAfter: number; opsPort: number; opsHost: string },
): Promise<void> {
  const preferred =
    opts.partitions === undefined
      ? [...Array(opts.partitionCount).keys()]
      : parsePartitionList(opts.partitions, opts.partitionCount);
  const logger = pino({ level: process.env.HEADROOM_LOG_LEVEL ?? "info" });
  let leases: PartitionLeases | undefined;
  const headroom = await openHeadroom({
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    store: { singleSession: true },
    fence: async (trx) => leases?.fence(trx),
  });
  if (headroom.store.dialect !== "postgres") {
    await headroom.close();
    throw new Error(
      "worker: needs PostgreSQL (--database postgres://...); partitions are shared through its locks",
    );
  }
  leases = new PartitionLeases(headroom.store.db, opts.stream);
  const nc = await connect({ servers: opts.nats, name: `headroom-worker-${process.pid}` });
  const worker = new StreamWorker(
    headroom,
    nc,
    leases,
    {
      stream: opts.stream,
      partitions: opts.partitionCount,
      preferred,
      takeoverAfterMs: opts.takeoverAfter,
      leaseIntervalMs: 500,
    },
    logger,
    (error) => {
      logger.fatal({ err: error }, "worker stopping");
      process.exit(1);
    },
  );
  await worker.start();
  if (opts.opsPort !== 0) {
    collectDefaultMetrics({ register: headroom.metrics.registry });
    const ops = await buildOpsServer(headroom, [
      {
        name: "nats",
        check: async () => (nc.isClosed() ? Promise.reject(new Error("NATS closed")) : nc.getServer()),
      },
      { name: "partitions", check: async () => worker.ownedPartitions().join(",") },
    ]);
    await ops.listen({ host: opts.opsHost, port: opts.opsPort });
  }
  logger.info({ preferred, stream: opts.stream }, "worker started");
  const shutdown = async () => {
    await worker.stop();
    await nc.drain();
    await headroom.close();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
