import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { Store } from "../store/connect.ts";
import { decisionSubject } from "./jetstream.ts";
import { partitionOf } from "./partitions.ts";

const PAGE = 1000;

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

/**
 * Publishes committed decisions to `<stream>_DECISIONS`, on the account's partition, in ledger
 * order. The ledger is the commit order (its head row is locked by every writer), so a cursor on
 * its sequence misses nothing. The cursor moves only after the stream acknowledged the page; a
 * relay killed in between publishes the page again under the same message ids, which the stream
 * drops as duplicates within its window. Returns how many decisions were published in this pass.
 */
export async function relayDecisions(
  store: Store,
  js: JetStreamClient,
  target: { stream: string; partitions: number },
  clock: () => number,
): Promise<number> {
  const job = relayJob(target.stream);
  let relayed = 0;
  for (;;) {
    const cursorRow = await store.db
      .selectFrom("job_cursors")
      .select("cursor")
      .where("job", "=", job)
      .executeTakeFirst();
    const after = Number(cursorRow?.cursor ?? 0);
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
      .limit(PAGE)
      .execute();
    if (rows.length === 0) return relayed;
    const acks: Promise<PubAck>[] = rows.map((r) => {
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
      return js.publish(
        decisionSubject(target.stream, partitionOf(r.account_id, target.partitions)),
        JSON.stringify(message),
        { msgID: `decision/${r.id}` },
      );
    });
    await Promise.all(acks);
    const cursor = String(rows[rows.length - 1]?.seq);
    const now = clock();
    await store.db
      .insertInto("job_cursors")
      .values({ job, cursor, updated_at: now })
      .onConflict((oc) => oc.column("job").doUpdateSet({ cursor, updated_at: now }))
      .execute();
    relayed += rows.length;
  }
}
