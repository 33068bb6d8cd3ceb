import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Contact } from "../../src/services/channels/contacts.ts";
import { smtpEmailChannel } from "../../src/services/channels/email.ts";
import { httpSmsChannel } from "../../src/services/channels/sms.ts";
import {
  SIGNATURE_HEADER,
  signedWebhookChannel,
  signNotice,
  TIMESTAMP_HEADER,
  verifyNoticeSignature,
} from "../../src/services/channels/webhook.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { backoffMs, deliverDueNotices, logChannel } from "../../src/services/notices.ts";
import { drawdown, due, inquiry, lenderOpened, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const SECRET = "channel-test-secret-0123";
const contacts: Record<string, Contact> = {
  "b-a1": { phone: "+8613800000001", email: "wang@example.cn", language: "zh-CN" },
  "b-a2": { phone: "+447700900002", email: "smith@example.com", language: "en" },
};
const lookup = async (notice: { payload: string }) =>
  contacts[(JSON.parse(notice.payload) as { borrowerId: string }).borrowerId] ?? null;

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function httpReceiver(failFirst: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  let failures = failFirst;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += String(c);
    });
    req.on("end", () => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      got.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got };
}

describe("notice channels", () => {
  const clock = manualClock(T0 + 30 * DAY);
  let headroom: Headroom & { dispose(): Promise<void> };
  const servers: { close(): void }[] = [];

  beforeEach(async () => {
    clock.set(T0 + 30 * DAY);
    headroom = await sqliteTarget.open(clock.now);
    // a1 (reads Chinese) gets a noticed cut for borrowing widely; a2 (reads English) the same.
    for (const account of ["a1", "a2"]) {
      const events = [
        opened(account, T0, { declaredMonthlyIncome: 2_000_000 }),
        drawdown(account, `${account}-d`, T0 + DAY, 1000),
      ];
      for (let i = 0; i < 3; i++)
        events.push(lenderOpened(account, `${account}-l${i}`, T0 + (20 + i) * DAY, `lender-${i}`));
      for (let i = 0; i < 4; i++) events.push(inquiry(account, `${account}-q${i}`, T0 + (25 + i) * DAY));
      events.push(due(account, `${account}-u`, T0 + 29 * DAY, T0 + 40 * DAY, 1000));
      await ingestEvents(headroom, events);
    }
    // This suite is about channels: the rate change each line also gets (its own notice, covered
    // in test/pricing/rateChanges.test.ts) is taken out here so each borrower has one notice.
    await headroom.store.db.deleteFrom("outbox").where("payload", "like", '%"action":"rate_%').execute();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) s.close();
    await headroom.dispose();
  });

  it("signs webhooks so a receiver can refuse altered, unsigned or stale requests", async () => {
    const hook = await httpReceiver(0);
    servers.push(hook.server);
    const result = await deliverDueNotices({
      store: headroom.store,
      clock: clock.now,
      channels: [signedWebhookChannel(hook.url, SECRET, clock.now)],
    });
    expect(result).toEqual({ delivered: 2, failed: 0 });
    for (const r of hook.got) {
      const headers = {
        timestamp: r.headers[TIMESTAMP_HEADER] as string,
        signature: r.headers[SIGNATURE_HEADER] as string,
      };
      expect(headers.signature).toMatch(/^v1=[0-9a-f]{64}$/);
      expect(verifyNoticeSignature(SECRET, headers, r.body, clock.now())).toBe(true);
      expect(
        verifyNoticeSignature(SECRET, headers, r.body.replace("decrease", "increase"), clock.now()),
      ).toBe(false);
      expect(verifyNoticeSignature("another-secret-000000", headers, r.body, clock.now())).toBe(false);
      expect(verifyNoticeSignature(SECRET, headers, r.body, clock.now() + 10 * 60_000)).toBe(false);
      expect(verifyNoticeSignature(SECRET, { ...headers, signature: undefined }, r.body, clock.now())).toBe(
        false,
      );
    }
    expect(signNotice(SECRET, "1", "{}")).not.toBe(signNotice(SECRET, "2", "{}"));
  });

  it("texts and e-mails each borrower in their language, and a retry never resends to a channel that took the notice", async () => {
    const sms = await httpReceiver(1);
    servers.push(sms.server);
    const mails: { to: string; raw: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, session, callback) {
        let raw = "";
        stream.on("data", (c) => {
          raw += String(c);
        });
        stream.on("end", () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), raw });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => smtp.close() });
    const email = smtpEmailChannel({
      host: "127.0.0.1",
      port: (smtp.server.address() as AddressInfo).port,
      from: "Headroom <notices@headroom.example>",
      contacts: lookup,
    });
    // E-mail first, then SMS; the SMS gateway fails once, so the first pass e-mails one borrower
    // and then fails on the text message.
    const channels = [
      logChannel(pino({ level: "silent" })),
      email,
      httpSmsChannel({ url: sms.url, apiKey: "test-key", contacts: lookup }),
    ];
    const first = await deliverDueNotices({ store: headroom.store, clock: clock.now, channels });
    expect(first).toEqual({ delivered: 1, failed: 1 });
    clock.set(clock.now() + backoffMs(1));
    expect(await deliverDueNotices({ store: headroom.store, clock: clock.now, channels })).toEqual({
      delivered: 1,
      failed: 0,
    });
    email.close();

    expect(mails.map((m) => m.to).sort()).toEqual(["smith@example.com", "wang@example.cn"]);
    expect(sms.got.map((r) => JSON.parse(r.body).to).sort()).toEqual(["+447700900002", "+8613800000001"]);
    const zhText = JSON.parse(
      sms.got.find((r) => JSON.parse(r.body).to === "+8613800000001")?.body ?? "{}",
    ).text;
    expect(zhText).toMatch(/我们将于\d{4}-\d{2}-\d{2}降低您的信用额度/);
    expect(zhText).toContain("近30天征信查询次数：4");
    expect(zhText).toMatch(/如您.*前即可保留20,000元额度/);
    const enText = JSON.parse(
      sms.got.find((r) => JSON.parse(r.body).to === "+447700900002")?.body ?? "{}",
    ).text;
    expect(enText).toMatch(/We will lower your credit limit on \d{4}-\d{2}-\d{2}/);
    expect(enText).toContain("Credit inquiries in 30 days: 4");
    expect(enText).toMatch(/you keep your limit of 20,000 yuan/);
    expect(sms.got.map((r) => JSON.parse(r.body).reference)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^scheduled:dec_/)]),
    );
    expect(mails.find((m) => m.to === "smith@example.com")?.raw).toMatch(
      /Subject: A change to your credit line/,
    );
    const perChannel = await headroom.store.db
      .selectFrom("notice_deliveries")
      .select(["channel", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("channel")
      .orderBy("channel")
      .execute();
    expect(perChannel.map((r) => [r.channel, Number(r.n)])).toEqual([
      ["email", 2],
      ["log", 2],
      ["sms", 2],
    ]);
  });
});
