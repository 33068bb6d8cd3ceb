import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { ingestEvents } from "../../src/services/ingest.ts";
import { type DecisionMessage, decisionSource, relayJob } from "../../src/stream/decisionRelay.ts";
import { ensureRelayStream, relayStreamName } from "../../src/stream/jetstream.ts";
import { relayLedger } from "../../src/stream/ledgerRelay.ts";
import { partitionOf } from "../../src/stream/partitions.ts";
import { generatedEvents } from "../../src/stream/publisher.ts";
import { freshStreamName, natsConnection } from "../support/nats.ts";
import { storeTargets } from "../support/stores.ts";

const nats = await natsConnection();
const targets = await storeTargets("the decision relay");
if (nats.nc === null) console.warn(`SKIPPED: decision relay (${nats.reason})`);

describe.skipIf(nats.nc === null)("decision relay to JetStream", () => {
  const nc = nats.nc as NatsConnection;
  const streams: string[] = [];
  const decisionStreamName = (s: string) => relayStreamName(s, "decisions");

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(decisionStreamName(stream)).catch(() => false);
    await nc.drain();
  });

  it.each(targets)(
    "$target.name: publishes every committed decision once, in commit order, on its account's partition; a replay adds nothing",
    async ({ target: store, skip }) => {
      if (skip) return;
      const stream = freshStreamName();
      streams.push(stream);
      const headroom = await store.open(() => Date.now());
      try {
        const events = generatedEvents(3000, 9, Date.UTC(2026, 5, 1));
        for (let i = 0; i < events.length; i += 1000) await ingestEvents(headroom, events.slice(i, i + 1000));
        const jsm = await jetstreamManager(nc);
        await ensureRelayStream(jsm, stream, "decisions");
        const js = jetstream(nc);
        const target = { stream, partitions: 16 };
        const relay = () => relayLedger(headroom.store, js, decisionSource, target, headroom.clock);
        const relayed = await relay();
        const committed = await headroom.store.db
          .selectFrom("ledger")
          .select(["ref_id", "seq"])
          .where("kind", "=", "decision")
          .orderBy("seq")
          .execute();
        expect(committed.length).toBeGreaterThan(100);
        expect(relayed).toEqual({ published: committed.length, duplicates: 0 });
        expect(await relay()).toEqual({ published: 0, duplicates: 0 });

        // A relay that died before moving its cursor publishes the same messages again: dropped.
        await headroom.store.db.deleteFrom("job_cursors").where("job", "=", relayJob(stream)).execute();
        expect(await relay()).toEqual({ published: 0, duplicates: committed.length });
        const info = await jsm.streams.info(decisionStreamName(stream));
        expect(info.state.messages).toBe(committed.length);

        const consumer = await js.consumers.get(decisionStreamName(stream));
        const received: DecisionMessage[] = [];
        const messages = await consumer.fetch({ max_messages: committed.length, expires: 5000 });
        for await (const m of messages) {
          const decision = m.json<DecisionMessage>();
          expect(m.subject).toBe(`${decisionStreamName(stream)}.${partitionOf(decision.accountId, 16)}`);
          received.push(decision);
        }
        expect(received.map((d) => d.decisionId)).toEqual(committed.map((c) => c.ref_id));
      } finally {
        await headroom.dispose();
      }
    },
  );
});
