import type { SelectQueryBuilder } from "kysely";
import { decodeFeatureState } from "../engine/featureStateCodec.ts";
import { deferDues, type FeatureName, readFeatures } from "../engine/features.ts";
import { bodyHash } from "../engine/ledger.ts";
import { type Condition, compare } from "../engine/policy.ts";
import { applyRelief, type Relief, reliefText } from "../engine/pricing/relief.ts";
import { addMonths, type Instalment, type RepaymentMethod } from "../engine/pricing/schedule.ts";
import type { Store } from "../store/connect.ts";
import type {
  Database,
  DrawdownRescheduleTable,
  HardshipOfferTable,
  HardshipProgramTable,
} from "../store/schema.ts";
import { borrowerNotice } from "./appealsNotices.ts";
import type { IngestDeps } from "./ingest.ts";
import { loadLines, saveLines } from "./lineLoader.ts";
import { writeNotices } from "./outbox.ts";
import { scheduleOf } from "./pricing.ts";
import { appendToLedger, type Sealed } from "./writeSet.ts";

export class HardshipError extends Error {}

/** The most accounts one program offers relief to in one transaction. */
export const MAX_OFFERS_PER_PROGRAM = 200_000;

export interface ProgramRequest {
  id: string;
  name: string;
  relief: Relief;
  region?: string;
  segment?: string;
  /** Conditions on a line's features, all of which it must meet to be offered the program. */
  eligibility?: Condition[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  reason: string;
}

export const programBodyHash = (p: HardshipProgramTable) =>
  bodyHash([
    p.id,
    p.name,
    p.relief,
    p.region,
    p.segment,
    p.starts_at,
    p.ends_at,
    p.created_by,
    p.reason,
    p.created_at,
    // Programs sealed before eligibility rules existed keep their hash.
    ...(p.eligibility === null ? [] : [p.eligibility]),
  ]);
export const offerBodyHash = (o: HardshipOfferTable) =>
  bodyHash([o.id, o.program_id, o.account_id, o.status, o.responded_at]);
export const rescheduleBodyHash = (r: DrawdownRescheduleTable) =>
  bodyHash([r.id, r.drawdown_id, r.offer_id, r.schedule, r.at]);

/**
 * Creates a program and offers it to every open line in its region and/or segment, telling each
 * borrower. The program is sealed in the ledger; each offer is sealed when it is answered.
 */
export async function offerProgram(deps: IngestDeps, request: ProgramRequest): Promise<{ offered: number }> {
  if (request.endsAt <= request.startsAt) throw new HardshipError("a program must end after it starts");
  if (request.reason.trim() === "" || request.createdBy.trim() === "") {
    throw new HardshipError("a program needs its author and a written reason");
  }
  const at = deps.clock();
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const exists = await trx
        .selectFrom("hardship_programs")
        .select("id")
        .where("id", "=", request.id)
        .executeTakeFirst();
      if (exists !== undefined) throw new HardshipError(`hardship program ${request.id} already exists`);
      const program: HardshipProgramTable = {
        id: request.id,
        name: request.name,
        relief: JSON.stringify(request.relief),
        region: request.region ?? null,
        segment: request.segment ?? null,
        starts_at: request.startsAt,
        ends_at: request.endsAt,
        created_by: request.createdBy,
        reason: request.reason,
        created_at: at,
        eligibility:
          request.eligibility === undefined || request.eligibility.length === 0
            ? null
            : JSON.stringify(request.eligibility),
      };
      await trx.insertInto("hardship_programs").values(program).execute();
      let inScope = trx.selectFrom("credit_lines").where("status", "!=", "CLOSED");
      if (request.region !== undefined) inScope = inScope.where("region", "=", request.region);
      if (request.segment !== undefined) inScope = inScope.where("segment", "=", request.segment);
      const rules = request.eligibility ?? [];
      const accounts =
        rules.length === 0
          ? await inScope
              .select("account_id")
              .orderBy("account_id")
              .limit(MAX_OFFERS_PER_PROGRAM + 1)
              .execute()
          : await eligibleLines(inScope, rules, at);
      if (accounts.length > MAX_OFFERS_PER_PROGRAM) {
        throw new HardshipError(`more than ${MAX_OFFERS_PER_PROGRAM} eligible lines: narrow the program`);
      }
      const noticeSeals: Sealed[] = [];
      for (let i = 0; i < accounts.length; i += 200) {
        const chunk = accounts.slice(i, i + 200);
        await trx
          .insertInto("hardship_offers")
          .values(
            chunk.map((a) => ({
              id: `${request.id}:${a.account_id}`,
              program_id: request.id,
              account_id: a.account_id,
              status: "offered",
              responded_at: null,
              created_at: at,
            })),
          )
          .execute();
        const notices = chunk.map((a) =>
          borrowerNotice(
            a.account_id,
            "hardship_offer",
            `${request.id}:${a.account_id}`,
            {
              programId: request.id,
              name: request.name,
              relief: request.relief,
              endsAt: new Date(request.endsAt).toISOString(),
              ...offerText(request.name, request.relief, request.endsAt),
            },
            at,
          ),
        );
        noticeSeals.push(...(await writeNotices(trx, deps.store.dialect, notices)));
      }
      await appendToLedger(
        trx,
        deps.store,
        [{ kind: "hardship_program", refId: program.id, bodyHash: programBodyHash(program) }, ...noticeSeals],
        at,
      );
      return { offered: accounts.length };
    }),
  );
}

/** Lines in scope whose features, read now, meet every eligibility condition (read in pages). */
async function eligibleLines(
  inScope: SelectQueryBuilder<Database, "credit_lines", object>,
  rules: readonly Condition[],
  at: number,
): Promise<{ account_id: string }[]> {
  const eligible: { account_id: string }[] = [];
  for (let after = ""; ; ) {
    const page = await inScope
      .select(["account_id", "features", "limit_amount", "balance"])
      .where("account_id", ">", after)
      .orderBy("account_id")
      .limit(ELIGIBILITY_PAGE)
      .execute();
    for (const line of page) {
      const features = readFeatures(
        decodeFeatureState(line.features),
        { limit: line.limit_amount, balance: line.balance },
        at,
      );
      if (rules.every((c) => compare(features[c.fact as FeatureName], c.op, c.value)))
        eligible.push({ account_id: line.account_id });
    }
    if (eligible.length > MAX_OFFERS_PER_PROGRAM || page.length < ELIGIBILITY_PAGE) return eligible;
    after = page.at(-1)?.account_id as string;
  }
}

const ELIGIBILITY_PAGE = 2000;

/**
 * The borrower's answer. Accepting changes every drawdown's schedule as the relief says, and a
 * payment holiday also defers the dues that fall in it, so they do not count as overdue.
 */
export async function answerOffer(
  deps: IngestDeps,
  accountId: string,
  programId: string,
  accept: boolean,
): Promise<{ status: "accepted" | "declined"; rescheduled: number }> {
  const at = deps.clock();
  return deps.writeLock.run(() =>
    deps.store.db.transaction().execute(async (trx) => {
      const offer = await trx
        .selectFrom("hardship_offers")
        .innerJoin("hardship_programs", "hardship_programs.id", "hardship_offers.program_id")
        .selectAll("hardship_offers")
        .select(["hardship_programs.relief", "hardship_programs.starts_at", "hardship_programs.ends_at"])
        .where("hardship_offers.id", "=", `${programId}:${accountId}`)
        .executeTakeFirst();
      if (offer === undefined)
        throw new HardshipError(`account ${accountId} has no offer of program ${programId}`);
      if (offer.status !== "offered") throw new HardshipError(`the offer was already ${offer.status}`);
      if (at < offer.starts_at || at >= offer.ends_at) throw new HardshipError("the program is not open now");
      const status = accept ? "accepted" : "declined";
      const answered: HardshipOfferTable = {
        id: offer.id,
        program_id: offer.program_id,
        account_id: offer.account_id,
        status,
        responded_at: at,
        created_at: offer.created_at,
      };
      await trx
        .updateTable("hardship_offers")
        .set({ status, responded_at: at })
        .where("id", "=", offer.id)
        .execute();
      const seals = [{ kind: "hardship_offer", refId: offer.id, bodyHash: offerBodyHash(answered) }];
      const reschedules: DrawdownRescheduleTable[] = [];
      if (accept) {
        const relief = JSON.parse(offer.relief) as Relief;
        const drawdowns = await trx
          .selectFrom("drawdowns")
          .selectAll()
          .where("account_id", "=", accountId)
          .execute();
        for (const d of drawdowns) {
          const latest = await trx
            .selectFrom("drawdown_reschedules")
            .select("schedule")
            .where("drawdown_id", "=", d.id)
            .orderBy("at", "desc")
            .executeTakeFirst();
          const instalments =
            latest === undefined ? scheduleOf(d).instalments : (JSON.parse(latest.schedule) as Instalment[]);
          const relieved = applyRelief(
            {
              instalments,
              annualRate: d.rate_bps,
              method: d.repayment as RepaymentMethod,
              drawnAt: d.drawn_at,
            },
            relief,
            at,
          );
          if (relieved === instalments) continue;
          reschedules.push({
            id: `${d.id}:${offer.id}`,
            drawdown_id: d.id,
            offer_id: offer.id,
            schedule: JSON.stringify(relieved),
            at,
          });
        }
        if (reschedules.length > 0)
          await trx.insertInto("drawdown_reschedules").values(reschedules).execute();
        for (const r of reschedules)
          seals.push({ kind: "drawdown_reschedule", refId: r.id, bodyHash: rescheduleBodyHash(r) });
        if (relief.kind === "payment_holiday") {
          const lines = await loadLines(trx, deps.store, [accountId]);
          const line = lines.get(accountId);
          if (line !== undefined) {
            deferDues(line.state, { from: at, until: addMonths(at, relief.months), programId });
            line.stateChanged = true;
            await saveLines(trx, deps.store, lines.values(), at);
          }
        }
        const notice = borrowerNotice(
          accountId,
          "hardship_accepted",
          offer.id,
          { programId, relief, rescheduled: reschedules.length, ...acceptedText(relief, reschedules.length) },
          at,
        );
        seals.push(...(await writeNotices(trx, deps.store.dialect, [notice])));
      }
      await appendToLedger(trx, deps.store, seals, at);
      return { status, rescheduled: reschedules.length };
    }),
  );
}

export async function offersFor(store: Store, accountId: string) {
  return store.db
    .selectFrom("hardship_offers")
    .innerJoin("hardship_programs", "hardship_programs.id", "hardship_offers.program_id")
    .select([
      "hardship_offers.program_id",
      "hardship_offers.status",
      "hardship_offers.responded_at",
      "hardship_programs.name",
      "hardship_programs.relief",
      "hardship_programs.ends_at",
    ])
    .where("hardship_offers.account_id", "=", accountId)
    .orderBy("hardship_offers.created_at", "desc")
    .limit(100)
    .execute();
}

export async function reschedulesFor(store: Store, accountId: string) {
  return store.db
    .selectFrom("drawdown_reschedules")
    .innerJoin("drawdowns", "drawdowns.id", "drawdown_reschedules.drawdown_id")
    .selectAll("drawdown_reschedules")
    .where("drawdowns.account_id", "=", accountId)
    .orderBy("drawdown_reschedules.at")
    .limit(500)
    .execute();
}

const iso = (at: number) => new Date(at).toISOString();

/** An account's offers and its drawdowns' rescheduled instalments, as the API and console show them. */
export async function hardshipView(store: Store, accountId: string) {
  return {
    offers: (await offersFor(store, accountId)).map((o) => ({
      programId: o.program_id,
      name: o.name,
      relief: JSON.parse(o.relief) as Relief,
      status: o.status,
      respondedAt: o.responded_at === null ? null : iso(o.responded_at),
      endsAt: iso(o.ends_at),
    })),
    reschedules: (await reschedulesFor(store, accountId)).map((r) => ({
      drawdownId: r.drawdown_id,
      programId: r.offer_id.split(":")[0] as string,
      at: iso(r.at),
      instalments: JSON.parse(r.schedule) as Instalment[],
    })),
  };
}

export type HardshipView = Awaited<ReturnType<typeof hardshipView>>;

function offerText(name: string, relief: Relief, endsAt: number): { en: string; zh: string } {
  const what = reliefText(relief);
  const until = new Date(endsAt).toISOString().slice(0, 10);
  return {
    en: `You can take "${name}": ${what.en}. Accept it in the app by ${until}; nothing changes unless you accept.`,
    zh: `您可参加"${name}"：${what.zh}。如需参加，请于${until}前在应用内接受；不接受则一切不变。`,
  };
}

function acceptedText(relief: Relief, rescheduled: number): { en: string; zh: string } {
  const what = reliefText(relief);
  return {
    en: `Your relief is in place: ${what.en}. ${rescheduled} drawdown schedule${rescheduled === 1 ? "" : "s"} changed; the app shows the new dates and amounts.`,
    zh: `您的纾困安排已生效：${what.zh}。已调整${rescheduled}笔支用的还款计划，新的日期和金额可在应用内查看。`,
  };
}
