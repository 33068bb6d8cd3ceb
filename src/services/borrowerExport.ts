import { decodeFeatureState } from "../engine/featureStateCodec.ts";
import type { Store } from "../store/connect.ts";
import { type MasterKey, type PersonalData, readPersonalData } from "./personalData.ts";

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());
const parsed = (text: string): unknown => JSON.parse(text);

/**
 * Everything Headroom holds about one borrower, as one JSON document (data portability): their
 * personal data (decrypted, or "erased"), lines, decisions with inputs and reasons, limit changes,
 * notices and appeals. Null when there is no such borrower.
 */
export async function exportBorrower(store: Store, master: MasterKey, borrowerId: string, now: number) {
  const db = store.db;
  const borrower = await db
    .selectFrom("borrowers")
    .selectAll()
    .where("id", "=", borrowerId)
    .executeTakeFirst();
  if (borrower === undefined) return null;
  const personal: PersonalData | "erased" | null = await readPersonalData(store, master, borrowerId);
  const lines = await db
    .selectFrom("credit_lines")
    .selectAll()
    .where("borrower_id", "=", borrowerId)
    .execute();
  const accountIds = lines.map((l) => l.account_id);
  const inAccounts = accountIds.length === 0 ? ["\u0000"] : accountIds;
  const decisions = await db
    .selectFrom("decisions")
    .selectAll()
    .where("account_id", "in", inAccounts)
    .orderBy("decided_at")
    .execute();
  const changes = await db
    .selectFrom("line_changes")
    .selectAll()
    .where("account_id", "in", inAccounts)
    .orderBy("effective_at")
    .execute();
  const notices = await db
    .selectFrom("outbox")
    .selectAll()
    .where("account_id", "in", inAccounts)
    .orderBy("created_at")
    .execute();
  const appeals = await db
    .selectFrom("appeals")
    .selectAll()
    .where("account_id", "in", inAccounts)
    .orderBy("filed_at")
    .execute();
  return {
    exportedAt: iso(now),
    borrower: {
      borrowerId,
      region: borrower.region,
      segment: borrower.segment,
      declaredIncome: borrower.declared_income,
      consentBureau: borrower.consent_bureau === 1,
      optOutAutomated: borrower.opt_out_automated === 1,
      createdAt: iso(borrower.created_at),
      personalData: personal,
    },
    accounts: lines.map((l) => ({
      accountId: l.account_id,
      status: l.status,
      limit: l.limit_amount,
      balance: l.balance,
      openedAt: iso(l.opened_at),
      features: decodeFeatureState(l.features),
    })),
    decisions: decisions.map((d) => ({
      decisionId: d.id,
      accountId: d.account_id,
      action: d.action,
      status: d.status,
      fromLimit: d.from_limit,
      toLimit: d.to_limit,
      decidedAt: iso(d.decided_at),
      input: parsed(d.input),
      output: parsed(d.output),
    })),
    limitChanges: changes.map((c) => ({
      decisionId: c.decision_id,
      accountId: c.account_id,
      fromLimit: c.from_limit,
      toLimit: c.to_limit,
      fromStatus: c.from_status,
      toStatus: c.to_status,
      effectiveAt: iso(c.effective_at),
    })),
    notices: notices.map((n) => ({
      noticeId: n.id,
      kind: n.kind,
      status: n.status,
      createdAt: iso(n.created_at),
      payload: parsed(n.payload),
    })),
    appeals: appeals.map((a) => ({
      appealId: a.id,
      decisionId: a.decision_id,
      kind: a.kind,
      statement: a.statement,
      status: a.status,
      filedAt: iso(a.filed_at),
      outcomeReason: a.outcome_reason,
    })),
  };
}
