import type { Store } from "../store/connect.ts";
import { noticeBodyHash } from "./outbox.ts";
import { appendToLedger } from "./writeSet.ts";

/** The job_cursors row that says the notices written before sealing have been sealed. */
export const NOTICE_BACKFILL_JOB = "ledger:notices-sealed";
const PAGE = 1000;

/**
 * Notices were not always sealed. A store opened with this code seals, once, the notices it holds
 * without a seal (attesting to them as they stand now), and records that it did; from then on
 * every notice is sealed as it is written, and `audit verify` names any notice without a seal as
 * written around Headroom. Never runs twice, so a row slipped in later is never sealed by it.
 */
export async function sealNoticesWrittenBeforeSealing(store: Store, now: number): Promise<number> {
  return store.db.transaction().execute(async (trx) => {
    // Processes opening one PostgreSQL store together queue on the ledger head here, so the
    // second sees the first's record and seals nothing.
    if (store.dialect === "postgres")
      await trx.selectFrom("ledger_head").select("seq").where("id", "=", 1).forUpdate().execute();
    const done = await trx
      .selectFrom("job_cursors")
      .select("cursor")
      .where("job", "=", NOTICE_BACKFILL_JOB)
      .executeTakeFirst();
    if (done !== undefined) return 0;
    let sealed = 0;
    let after = "";
    for (;;) {
      const notices = await trx
        .selectFrom("outbox")
        .selectAll()
        .where("id", ">", after)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("ledger")
                .select("seq")
                .where("ledger.kind", "=", "notice")
                .whereRef("ledger.ref_id", "=", "outbox.id"),
            ),
          ),
        )
        .orderBy("id")
        .limit(PAGE)
        .execute();
      if (notices.length === 0) break;
      await appendToLedger(
        trx,
        store,
        notices.map((n) => ({ kind: "notice", refId: n.id, bodyHash: noticeBodyHash(n) })),
        now,
      );
      sealed += notices.length;
      after = notices[notices.length - 1]?.id ?? after;
    }
    await trx
      .insertInto("job_cursors")
      .values({ job: NOTICE_BACKFILL_JOB, cursor: String(sealed), updated_at: now })
      .execute();
    return sealed;
  });
}
