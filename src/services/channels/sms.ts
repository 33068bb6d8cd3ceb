import type { NoticeChannel } from "../notices.ts";
import type { ContactLookup } from "./contacts.ts";
import { renderNotice } from "./templates.ts";

/** SMS bodies are kept to what carriers deliver as one long message. */
export const MAX_SMS_CHARS = 500;

/**
 * Texts the notice through an HTTP SMS gateway (JSON: to, text, reference). The reference is the
 * notice's idempotency key, which gateways use to drop a resend.
 */
export function httpSmsChannel(options: {
  url: string;
  apiKey: string;
  contacts: ContactLookup;
  timeoutMs?: number;
}): NoticeChannel {
  return {
    name: "sms",
    async deliver(notice) {
      const contact = await options.contacts(notice);
      if (contact?.phone === undefined) return;
      const { text } = renderNotice(notice.payload, contact.language);
      const response = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${options.apiKey}` },
        body: JSON.stringify({
          to: contact.phone,
          text: text.length > MAX_SMS_CHARS ? `${text.slice(0, MAX_SMS_CHARS - 1)}…` : text,
          reference: notice.idempotency_key,
        }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
    },
  };
}
