import { bodyHash } from "../engine/ledger.ts";
import { formatYuan } from "../engine/money.ts";
import { DEFAULT_FEES, type FeeSchedule, overLimitFee } from "../engine/pricing/fees.ts";
import { isoDate } from "../engine/time.ts";
import type { Store } from "../store/connect.ts";
import type { FeeTable, OutboxTable } from "../store/schema.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import { deterministicId } from "./ids.ts";
import type { IngestDeps } from "./ingest.ts";
import { writeNotices } from "./outbox.ts";
import { appendToLedger } from "./writeSet.ts";

/** Lines looked at per pass; the background loop comes back for the rest. */
const FEE_CHUNK = 1000;
/** Decisions that lower a line's limit: the cuts a fee can result from. */
const CUTS = ["decrease", "close"];

export const feeBodyHash = (f: FeeTable) =>
  bodyHash([f.id, f.account_id, f.kind, f.amount, f.cause_decision_id, f.charged_at]);

/**
 * Charges over-limit fees on active lines whose balance is above the limit, never within the
 * grace period after the notice of the cut that put them there. Each fee raises the balance, is
 * sealed in the ledger and told to the borrower, in one transaction.
 */
export async function assessOverLimitFees(
  deps: IngestDeps,
  fees: FeeSchedule = DEFAULT_FEES,
): Promise<{ charged: number; heldForCutNotice: number }> {
  const total = { charged: 0, heldForCutNotice: 0 };
  for (let after = ""; ; ) {
    const pass = await feeChunk(deps, fees, after);
    total.charged += pass.charged;
    total.heldForCutNotice += pass.heldForCutNotice;
    if (pass.last === null) return total;
    after = pass.last;
  }
}

/** One chunk of over-limit lines after `after` (by account id), in one transaction. */
function feeChunk(deps: IngestDeps, fees: FeeSchedule, after: string) {
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const over = await trx
        .selectFrom("credit_lines")
        .select(["account_id", "balance", "limit_amount"])
        .where("status", "=", "ACTIVE")
        .whereRef("balance", ">", "limit_amount")
        .where("account_id", ">", after)
        .orderBy("account_id")
        .limit(FEE_CHUNK)
        .execute();
      const result = {
        charged: 0,
        heldForCutNotice: 0,
        last: over.length < FEE_CHUNK ? null : (over.at(-1)?.account_id ?? null),
      };
      if (over.length === 0) return result;
      const ids = over.map((l) => l.account_id);
      const cuts = new Map<string, { id: string; at: number }>();
      for (const d of await trx
        .selectFrom("decisions")
        .select(["id", "account_id", "decided_at"])
        .where("account_id", "in", ids)
        .where("action", "in", CUTS)
        .where("status", "in", ["applied", "adjusted"])
        .orderBy("decided_at")
        .execute())
        cuts.set(d.account_id, { id: d.id, at: d.decided_at });
      const lastFee = new Map<string, number>();
      for (const f of await trx
        .selectFrom("fees")
        .select(["account_id", (eb) => eb.fn.max("charged_at").as("at")])
        .where("account_id", "in", ids)
        .where("kind", "=", "over_limit")
        .groupBy("account_id")
        .execute())
        lastFee.set(f.account_id, Number(f.at));
      const charged: FeeTable[] = [];
      const notices: OutboxTable[] = [];
      for (const line of over) {
        const cut = cuts.get(line.account_id) ?? null;
        const check = overLimitFee(
          { balance: line.balance, limit: line.limit_amount },
          cut?.at ?? null,
          lastFee.get(line.account_id) ?? null,
          now,
          fees,
        );
        if (!check.charge) {
          if (check.reason === "cut_grace") result.heldForCutNotice++;
          continue;
        }
        const fee: FeeTable = {
          id: deterministicId("fee", `over_limit:${line.account_id}:${isoDate(now)}`),
          account_id: line.account_id,
          kind: "over_limit",
          amount: check.amount,
          cause_decision_id: cut?.id ?? null,
          charged_at: now,
        };
        charged.push(fee);
        await trx
          .updateTable("credit_lines")
          .set((eb) => ({ balance: eb("balance", "+", fee.amount), updated_at: now }))
          .where("account_id", "=", line.account_id)
          .execute();
        notices.push(
          borrowerNotice(
            line.account_id,
            "fee_charged",
            fee.id,
            {
              feeId: fee.id,
              amount: fee.amount,
              en: `An over-limit fee of ${formatYuan(fee.amount)} yuan was charged: your balance is above your limit of ${formatYuan(line.limit_amount)} yuan.`,
              zh: `因欠款超出额度（${formatYuan(line.limit_amount)}元），已收取超限费${formatYuan(fee.amount)}元。`,
            },
            now,
          ),
        );
      }
      if (charged.length > 0) await trx.insertInto("fees").values(charged).execute();
      result.charged = charged.length;
      const noticeSeals = await writeNotices(trx, deps.store.dialect, notices);
      await appendToLedger(
        trx,
        deps.store,
        [...charged.map((f) => ({ kind: "fee", refId: f.id, bodyHash: feeBodyHash(f) })), ...noticeSeals],
        now,
      );
      return result;
    }),
  );
}

export async function listFees(store: Store, accountId: string): Promise<FeeTable[]> {
  return store.db
    .selectFrom("fees")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("charged_at", "desc")
    .limit(200)
    .execute();
}
