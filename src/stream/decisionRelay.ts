import type { RelaySource } from "./ledgerRelay.ts";

export const relayJob = (stream: string) => `relay:${stream}`;

/** What downstream systems receive for each decision, in the order decisions were committed. */
export interface DecisionMessage {
  ledgerSeq: number;
  decisionId: string;
  accountId: string;
  trigger: string;
  action: string;
  status: string;
  fromLimit: number;
  toLimit: number;
  fromStatus: string;
  toStatus: string;
  adverse: boolean;
  ruleId: string | null;
  decidedAt: string;
  effectiveAt: string;
}

/** Decisions in ledger order; the cursor key predates notices and is kept so relays resume. */
export const decisionSource: RelaySource = {
  what: "decisions",
  job: relayJob,
  async page(store, after, limit) {
    const rows = await store.db
      .selectFrom("ledger")
      .innerJoin("decisions", "decisions.id", "ledger.ref_id")
      .select([
        "ledger.seq",
        "decisions.id",
        "decisions.account_id",
        "decisions.idempotency_key",
        "decisions.action",
        "decisions.status",
        "decisions.from_limit",
        "decisions.to_limit",
        "decisions.from_status",
        "decisions.to_status",
        "decisions.adverse",
        "decisions.rule_id",
        "decisions.decided_at",
        "decisions.effective_at",
      ])
      .where("ledger.kind", "=", "decision")
      .where("ledger.seq", ">", after)
      .orderBy("ledger.seq")
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const message: DecisionMessage = {
        ledgerSeq: r.seq,
        decisionId: r.id,
        accountId: r.account_id,
        trigger: r.idempotency_key,
        action: r.action,
        status: r.status,
        fromLimit: r.from_limit,
        toLimit: r.to_limit,
        fromStatus: r.from_status,
        toStatus: r.to_status,
        adverse: r.adverse === 1,
        ruleId: r.rule_id,
        decidedAt: new Date(r.decided_at).toISOString(),
        effectiveAt: new Date(r.effective_at).toISOString(),
      };
      return { seq: r.seq, accountId: r.account_id, msgId: `decision/${r.id}`, message };
    });
  },
};
