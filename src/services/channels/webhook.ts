import { createHmac, timingSafeEqual } from "node:crypto";
import type { NoticeChannel } from "../notices.ts";

export const SIGNATURE_HEADER = "x-headroom-signature";
export const TIMESTAMP_HEADER = "x-headroom-timestamp";
/** Receivers refuse signatures older than this, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** HMAC-SHA256 over "timestamp.body", hex, prefixed with its scheme version. */
export function signNotice(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** For receivers: checks the signature in constant time and the timestamp's freshness. */
export function verifyNoticeSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  now: number,
): boolean {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined) return false;
  const sentAt = Number(timestamp);
  if (!Number.isSafeInteger(sentAt) || Math.abs(now - sentAt) > SIGNATURE_TOLERANCE_MS) return false;
  const expected = Buffer.from(signNotice(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * POSTs each notice as JSON, signed so the receiver knows it came from Headroom and was not
 * altered; the Idempotency-Key (the notice id's key) lets the receiver drop a redelivery.
 */
export function signedWebhookChannel(
  url: string,
  secret: string,
  clock: () => number = Date.now,
  timeoutMs = 5000,
): NoticeChannel {
  if (secret.length < 16) throw new Error("webhook secret must be at least 16 characters");
  return {
    name: "webhook",
    async deliver(notice) {
      const timestamp = String(clock());
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": notice.idempotency_key,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signNotice(secret, timestamp, notice.payload),
        },
        body: notice.payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    },
  };
}
