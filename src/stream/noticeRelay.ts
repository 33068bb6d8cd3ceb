import { NOTICE_LANGUAGES, type NoticeLanguage, renderNotice } from "../services/channels/templates.ts";
import type { RelaySource } from "./ledgerRelay.ts";

/** The records a notice may point at; only these ids leave with it. */
const REFS = ["borrowerId", "decisionId", "appealId", "planId", "feeId", "programId"] as const;
type NoticeRef = (typeof REFS)[number];

/** The dates a notice announces, as the notice stored them (ISO 8601). */
const DATES = ["effectiveAt", "reviewBy", "endsAt"] as const;
type NoticeDate = (typeof DATES)[number];

/**
 * What downstream systems receive for each notice, in the order notices were committed. Built
 * field by field from the stored notice, never passed through: no name, phone, ID number or bank
 * account can ride along, even if one strayed into a payload. Which channel carries a notice to the
 * borrower, and in which language, is decided at delivery from the borrower's contact, so the
 * message carries the text in every language notices are written in.
 */
export interface NoticeMessage {
  ledgerSeq: number;
  noticeId: string;
  accountId: string;
  kind: string;
  refs: Partial<Record<NoticeRef, string>>;
  text: Record<NoticeLanguage, { subject: string; body: string }>;
  dates: Partial<Record<NoticeDate, string>>;
  createdAt: string;
}

export const noticeRelayJob = (stream: string) => `relay:${stream}:notices`;

export const noticeSource: RelaySource = {
  what: "notices",
  sealKind: "notice",
  job: noticeRelayJob,
  async load(store, ids) {
    const rows = await store.db
      .selectFrom("outbox")
      .select(["id", "account_id", "kind", "payload", "created_at"])
      .where("id", "in", ids)
      .execute();
    return rows.map((r) => {
      const payload = JSON.parse(r.payload) as Record<string, unknown>;
      const body: Omit<NoticeMessage, "ledgerSeq"> = {
        noticeId: r.id,
        accountId: r.account_id,
        kind: r.kind,
        refs: pick(payload, REFS),
        text: Object.fromEntries(
          NOTICE_LANGUAGES.map((lang) => {
            const { subject, text } = renderNotice(r.payload, lang);
            return [lang, { subject, body: text }];
          }),
        ) as NoticeMessage["text"],
        dates: pick(payload, DATES),
        createdAt: new Date(r.created_at).toISOString(),
      };
      return { id: r.id, accountId: r.account_id, body };
    });
  },
};

function pick<K extends string>(
  payload: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const picked: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = payload[key];
    if (typeof value === "string") picked[key] = value;
  }
  return picked;
}
