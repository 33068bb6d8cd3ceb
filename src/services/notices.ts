import type { Logger } from "pino";
import type { Store } from "../store/connect.ts";
import type { OutboxTable } from "../store/schema.ts";

/** A way to tell a borrower or a downstream system: log, webhook, later SMS and e-mail. */
export interface NoticeChannel {
  name: string;
  deliver(notice: OutboxTable): Promise<void>;
}

export const MAX_DELIVERY_ATTEMPTS = 10;
const BATCH = 100;
const MAX_BACKOFF_MS = 3_600_000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
}

/** Writes notices to the structured log; personal fields never enter a notice payload. */
export function logChannel(logger: Logger): NoticeChannel {
  return {
    name: "log",
    async deliver(notice) {
      logger.info({ notice: notice.id, kind: notice.kind, account: notice.account_id }, "notice delivered");
    },
  };
}

/** POSTs each notice as JSON; the Idempotency-Key header lets the receiver drop repeats. */
export function webhookChannel(url: string, timeoutMs = 5000): NoticeChannel {
  return {
    name: "webhook",
    async deliver(notice) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": notice.idempotency_key },
        body: notice.payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    },
  };
}

export interface DeliveryDeps {
  store: Store;
  clock: () => number;
  channels: NoticeChannel[];
}

/**
 * Delivers due notices through every channel; a failure schedules a retry with exponential
 * backoff, and after MAX_DELIVERY_ATTEMPTS the notice is parked as failed for an operator.
 */
export async function deliverDueNotices(deps: DeliveryDeps): Promise<{ delivered: number; failed: number }> {
  const now = deps.clock();
  let query = deps.store.db
    .selectFrom("outbox")
    .selectAll()
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .orderBy("next_attempt_at")
    .limit(BATCH);
  if (deps.store.dialect === "postgres") query = query.forUpdate().skipLocked();
  const due = await query.execute();
  let delivered = 0;
  let failed = 0;
  for (const notice of due) {
    try {
      // A channel that already took this notice (before a failure elsewhere, or before a crash)
      // is not sent it again: each notice reaches each channel once.
      const done = new Set(
        (
          await deps.store.db
            .selectFrom("notice_deliveries")
            .select("channel")
            .where("notice_id", "=", notice.id)
            .execute()
        ).map((r) => r.channel),
      );
      for (const channel of deps.channels) {
        if (done.has(channel.name)) continue;
        await channel.deliver(notice);
        await deps.store.db
          .insertInto("notice_deliveries")
          .values({ notice_id: notice.id, channel: channel.name, delivered_at: deps.clock() })
          .onConflict((oc) => oc.columns(["notice_id", "channel"]).doNothing())
          .execute();
      }
      await deps.store.db
        .updateTable("outbox")
        .set({
          status: "delivered",
          delivered_at: deps.clock(),
          attempts: notice.attempts + 1,
          last_error: null,
        })
        .where("id", "=", notice.id)
        .execute();
      delivered++;
    } catch (error) {
      const attempts = notice.attempts + 1;
      await deps.store.db
        .updateTable("outbox")
        .set({
          status: attempts >= MAX_DELIVERY_ATTEMPTS ? "failed" : "pending",
          attempts,
          next_attempt_at: deps.clock() + backoffMs(attempts),
          last_error: String(error).slice(0, 500),
        })
        .where("id", "=", notice.id)
        .execute();
      failed++;
    }
  }
  return { delivered, failed };
}
