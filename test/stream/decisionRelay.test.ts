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
import { type StoreTarget, storeTargets } from "../support/stores.ts";

const nats = await natsConnection();
const targets = await storeTargets("the decision relay");
if (nats.nc === null) console.warn(`SKIPPED: decision relay (${nats.reason})`);

describe.skipIf(nats.nc === null)("decision relay to JetStream", () => {
  const nc = nats.nc as NatsConnection;
  const streams: string[] = [];
  const decisionStreamName = (s: string) => relayStreamName(s, "decisions");

  /** A store that has ingested this many generated events (and decided on them), and a fresh stream name. */
  const decidedBook = async (store: StoreTarget, events: number) => {
    const stream = freshStreamName();
    streams.push(stream);
    const headroom = await store.open(() => Date.now());
    const generated = generatedEvents(events, 9, Date.UTC(2026, 5, 1));
    for (let i = 0; i < generated.length; i += 1000)
      await ingestEvents(headroom, generated.slice(i, i + 1000));
    return { stream, headroom };
  };

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(decisionStreamName(stream)).catch(() => false);
    await nc.drain();
  });

  it.each(targets)(
    "$target.name: publishes every committed decision once, in commit order, on its account's partition; a replay adds nothing",
    async ({ target: store, skip }) => {
      if (skip) return;
      const { stream, headroom } = await decidedBook(store, 3000);
      try {
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

  it.each(targets)(
    "$target.name: a message the stream refuses mid-page stops the page there; the retry stores the rest after it, in ledger order",
    async ({ target: store, skip }) => {
      if (skip) return;
      const { stream, headroom } = await decidedBook(store, 600);
      try {
        const committed = await headroom.store.db
          .selectFrom("ledger")
          .innerJoin("decisions", "decisions.id", "ledger.ref_id")
          .select(["ledger.ref_id", "decisions.account_id"])
          .where("ledger.kind", "=", "decision")
          .orderBy("ledger.seq")
          .execute();
        const partitions = 16;
        const partitionAt = (i: number) => partitionOf(committed[i]?.account_id ?? "", partitions);
        // The first decision on another partition than the first's: the stream will refuse it, and
        // take (were they sent) later ones on the other partitions.
        const refused = committed.findIndex((_, i) => i > 0 && partitionAt(i) !== partitionAt(0));
        expect(refused).toBeGreaterThan(0);
        expect(
          committed.slice(refused + 1).some((_, k) => partitionAt(refused + 1 + k) !== partitionAt(refused)),
        ).toBe(true);
        const jsm = await jetstreamManager(nc);
        await ensureRelayStream(jsm, stream, "decisions");
        const name = decisionStreamName(stream);
        const listening = (except: number | null) =>
          Array.from({ length: partitions }, (_, p) => p)
            .filter((p) => p !== except)
            .map((p) => `${name}.${p}`);
        const info = await jsm.streams.info(name);
        await jsm.streams.update(name, { ...info.config, subjects: listening(partitionAt(refused)) });
        const js = jetstream(nc);
        const target = { stream, partitions };
        const relay = () =>
          relayLedger(headroom.store, js, decisionSource, target, headroom.clock, {
            pageSize: committed.length,
          });
        await expect(relay()).rejects.toThrow();
        // Only what came before the refused message is stored.
        expect((await jsm.streams.info(name)).state.messages).toBe(refused);

        await jsm.streams.update(name, { ...info.config, subjects: listening(null) });
        expect(await relay()).toEqual({ published: committed.length - refused, duplicates: refused });
        const consumer = await js.consumers.get(name);
        const received: string[] = [];
        for await (const m of await consumer.fetch({ max_messages: committed.length, expires: 5000 }))
          received.push(m.json<DecisionMessage>().decisionId);
        expect(received).toEqual(committed.map((c) => c.ref_id));
      } finally {
        await headroom.dispose();
      }
    },
  );
});
