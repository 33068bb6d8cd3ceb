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
  sealKind: "decision",
  job: relayJob,
  async load(store, ids) {
    const rows = await store.db
      .selectFrom("decisions")
      .select([
        "id",
        "account_id",
        "idempotency_key",
        "action",
        "status",
        "from_limit",
        "to_limit",
        "from_status",
        "to_status",
        "adverse",
        "rule_id",
        "decided_at",
        "effective_at",
      ])
      .where("id", "in", ids)
      .execute();
    return rows.map((r) => {
      const body: Omit<DecisionMessage, "ledgerSeq"> = {
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
      return { id: r.id, accountId: r.account_id, body };
    });
  },
};
