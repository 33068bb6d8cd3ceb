import nodemailer from "nodemailer";
import type { NoticeChannel } from "../notices.ts";
import type { ContactLookup } from "./contacts.ts";
import { renderNotice } from "./templates.ts";

/**
 * E-mails the notice over SMTP (nodemailer). The Message-ID is derived from the notice id, so a
 * mail system that sees a resend can tell it is the same notice.
 */
export function smtpEmailChannel(options: {
  host: string;
  port: number;
  secure?: boolean;
  auth?: { user: string; pass: string };
  from: string;
  contacts: ContactLookup;
}): NoticeChannel & { close(): void } {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    ...(options.auth === undefined ? {} : { auth: options.auth }),
  });
  return {
    name: "email",
    async deliver(notice) {
      const contact = await options.contacts(notice);
      if (contact?.email === undefined) return;
      const { subject, text } = renderNotice(notice.payload, contact.language);
      await transport.sendMail({
        from: options.from,
        to: contact.email,
        subject,
        text,
        messageId: `<${notice.id}@notices.headroom>`,
        headers: { "X-Headroom-Notice": notice.idempotency_key },
      });
    },
    close: () => transport.close(),
  };
}
