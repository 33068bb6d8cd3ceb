import type { OutboxTable } from "../../store/schema.ts";
import type { NoticeLanguage } from "./templates.ts";

/**
 * Where a borrower is reached. Notices carry no personal data, so channels look the contact up at
 * delivery time (from the lender's customer system); null means this borrower has no such channel.
 */
export interface Contact {
  phone?: string;
  email?: string;
  language: NoticeLanguage;
}

export type ContactLookup = (notice: OutboxTable) => Promise<Contact | null>;
