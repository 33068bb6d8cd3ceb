import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { borrowerNotice } from "../../src/services/appealsNotices.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { writeNotices } from "../../src/services/outbox.ts";
import { masterKeyFrom, type PersonalData, storePersonalData } from "../../src/services/personalData.ts";
import { appendToLedger } from "../../src/services/writeSet.ts";
import { ensureRelayStream, relayStreamName } from "../../src/stream/jetstream.ts";
import { relayLedger } from "../../src/stream/ledgerRelay.ts";
import { type NoticeMessage, noticeRelayJob, noticeSource } from "../../src/stream/noticeRelay.ts";
import { partitionOf } from "../../src/stream/partitions.ts";
import { generatedEvents } from "../../src/stream/publisher.ts";
import { freshStreamName, natsConnection } from "../support/nats.ts";
import { type StoreTarget, storeTargets } from "../support/stores.ts";

const nats = await natsConnection();
if (nats.nc === null) console.warn(`SKIPPED: notice relay (${nats.reason})`);

const targets = await storeTargets("the notice relay");
const PARTITIONS = 16;

describe.skipIf(nats.nc === null)("notice relay to JetStream", () => {
  afterAll(async () => {
    await nats.nc?.drain();
  });
  for (const { target, skip } of targets) describe.skipIf(skip)(target.name, () => relaySuite(target));
});

function relaySuite(target: StoreTarget): void {
  const nc = nats.nc as NatsConnection;
  const stream = freshStreamName();
  const noticeStream = relayStreamName(stream, "notices");
  let headroom: Headroom & { dispose(): Promise<void> };
  /** Every borrower's personal data as stored (encrypted); none of it may leave in a message. */
  const personal = new Map<string, PersonalData>();

  beforeAll(async () => {
    headroom = await target.open(() => Date.now());
    const events = generatedEvents(3000, 9, Date.UTC(2026, 5, 1));
    for (let i = 0; i < events.length; i += 1000) await ingestEvents(headroom, events.slice(i, i + 1000));
    const borrowers = await headroom.store.db.selectFrom("borrowers").select("id").execute();
    for (const [i, b] of borrowers.entries())
      personal.set(b.id, {
        name: `Zhang Wei ${i}号`,
        phone: `+86138${String(i).padStart(8, "0")}`,
        idNumber: `11010519900307${String(i).padStart(4, "0")}`,
        bankAccount: `6222020200${String(i).padStart(9, "0")}`,
      });
    await storePersonalData(
      headroom.store,
      masterKeyFrom(randomBytes(32)),
      [...personal].map(([borrowerId, data]) => ({ borrowerId, data })),
      headroom.clock(),
    );
    // A notice whose payload carries personal fields it should never have had: they stay home.
    const line = await headroom.store.db
      .selectFrom("credit_lines")
      .select(["account_id", "borrower_id"])
      .orderBy("account_id")
      .executeTakeFirstOrThrow();
    const data = personal.get(line.borrower_id) as PersonalData;
    await headroom.store.db.transaction().execute(async (trx) => {
      const notice = borrowerNotice(
        line.account_id,
        "plan_met",
        "stray",
        {
          planId: "pln_stray",
          borrowerId: line.borrower_id,
          ...data,
          en: "Your line is open again.",
          zh: "您的额度已重新开通。",
        },
        headroom.clock(),
      );
      await appendToLedger(
        trx,
        headroom.store,
        await writeNotices(trx, headroom.store.dialect, [notice]),
        headroom.clock(),
      );
    });
  });

  afterAll(async () => {
    await headroom?.dispose();
    await (await jetstreamManager(nc)).streams.delete(noticeStream).catch(() => false);
  });

  const committedNotices = () =>
    headroom.store.db
      .selectFrom("ledger")
      .innerJoin("outbox", "outbox.id", "ledger.ref_id")
      .select(["ledger.seq", "outbox.id", "outbox.account_id"])
      .where("ledger.kind", "=", "notice")
      .orderBy("ledger.seq")
      .execute();
  const cursor = async () =>
    (
      await headroom.store.db
        .selectFrom("job_cursors")
        .select("cursor")
        .where("job", "=", noticeRelayJob(stream))
        .executeTakeFirst()
    )?.cursor;
  const setCursor = (seq: number) =>
    headroom.store.db
      .updateTable("job_cursors")
      .set({ cursor: String(seq) })
      .where("job", "=", noticeRelayJob(stream))
      .execute();

  it("publishes nothing and keeps its cursor while the stream refuses (no notices stream yet)", async () => {
    const js = jetstream(nc);
    await expect(
      relayLedger(headroom.store, js, noticeSource, { stream, partitions: PARTITIONS }, headroom.clock),
    ).rejects.toThrow();
    expect(await cursor()).toBeUndefined();
  });

  it("publishes every notice once, in commit order per account, across a relay stopped and restarted mid-page", async () => {
    const jsm = await jetstreamManager(nc);
    await ensureRelayStream(jsm, stream, "notices");
    const js = jetstream(nc);
    const target = { stream, partitions: PARTITIONS };
    const relay = (options?: { pageSize: number; maxPages?: number }) =>
      relayLedger(headroom.store, js, noticeSource, target, headroom.clock, options);
    const committed = await committedNotices();
    expect(committed.length).toBeGreaterThan(150);

    // A relay that stops after three pages of 25.
    expect(await relay({ pageSize: 25, maxPages: 3 })).toEqual({ published: 75, duplicates: 0 });
    expect(await cursor()).toBe(String(committed[74]?.seq));
    // The next one gets 10 notices of its page acknowledged and dies before moving the cursor.
    await relay({ pageSize: 10, maxPages: 1 });
    await setCursor(committed[74]?.seq as number);
    // Restarted, it sends those 10 again under the same ids: the stream drops them.
    expect(await relay({ pageSize: 25 })).toEqual({ published: committed.length - 85, duplicates: 10 });
    expect(await cursor()).toBe(String(committed.at(-1)?.seq));
    expect(await relay({ pageSize: 25 })).toEqual({ published: 0, duplicates: 0 });
    // Restarted from a much older cursor (a restored database): all duplicates, nothing stored twice.
    await setCursor(committed[20]?.seq as number);
    expect(await relay()).toEqual({ published: 0, duplicates: committed.length - 21 });
    expect((await jsm.streams.info(noticeStream)).state.messages).toBe(committed.length);

    const consumer = await js.consumers.get(noticeStream);
    const raw: string[] = [];
    const received: NoticeMessage[] = [];
    for await (const m of await consumer.fetch({ max_messages: committed.length, expires: 5000 })) {
      const notice = m.json<NoticeMessage>();
      expect(m.subject).toBe(`${noticeStream}.${partitionOf(notice.accountId, PARTITIONS)}`);
      raw.push(m.string());
      received.push(notice);
    }
    expect(received.map((n) => n.noticeId)).toEqual(committed.map((c) => c.id));
    const byAccount = (rows: { account: string; id: string }[]) => {
      const order = new Map<string, string[]>();
      for (const r of rows) order.set(r.account, [...(order.get(r.account) ?? []), r.id]);
      return order;
    };
    const expected = byAccount(committed.map((c) => ({ account: c.account_id, id: c.id })));
    expect(byAccount(received.map((n) => ({ account: n.accountId, id: n.noticeId })))).toEqual(expected);
    expect(Math.max(...[...expected.values()].map((ids) => ids.length))).toBeGreaterThan(3);

    // What a notice says: ids, kind, the text in every language, its dates.
    const scheduled = received.find((n) => n.kind === "scheduled");
    expect(scheduled).toBeDefined();
    expect(scheduled?.refs.decisionId).toMatch(/^dec_/);
    expect(scheduled?.refs.borrowerId).toMatch(/^bor_/);
    expect(scheduled?.dates.effectiveAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(scheduled?.text.en.body).toContain(`We will`);
    expect(scheduled?.text.en.body).toContain(scheduled?.dates.effectiveAt?.slice(0, 10));
    expect(scheduled?.text["zh-CN"].body).toContain("我们将于");

    // No personal data, not even from the payload that carried some.
    for (const n of received)
      expect(Object.keys(n).sort()).toEqual(
        ["accountId", "createdAt", "dates", "kind", "ledgerSeq", "noticeId", "refs", "text"].sort(),
      );
    const stray = received.find((n) => n.refs.planId === "pln_stray");
    expect(stray?.text.en.body).toBe("Your line is open again.");
    const everything = raw.join("\n");
    for (const data of personal.values())
      for (const value of [data.name, data.phone, data.idNumber, data.bankAccount as string])
        expect(everything).not.toContain(value);
  });
}
