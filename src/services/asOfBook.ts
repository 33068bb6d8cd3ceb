import type { CreditEvent } from "../engine/events.ts";
import {
  applyEvent,
  deferDues,
  emptyFeatureState,
  type FeatureState,
  readFeatures,
} from "../engine/features.ts";
import type { Relief } from "../engine/pricing/relief.ts";
import { addMonths } from "../engine/pricing/schedule.ts";
import type { Store } from "../store/connect.ts";
import { applyBalance } from "./ingest.ts";
import { type LineRecord, rememberLimit } from "./lineBook.ts";

/** A line rebuilt from the stored history as it stood at a past instant, and what happened after. */
export interface ReplayedLine {
  line: LineRecord;
  /** The most days past due the account reached after the instant, up to the end of the history read. */
  worstDpdAfter: number;
}

const IDS_PER_QUERY = 500;

/**
 * Rebuilds lines as of `asOf` from the stored history, without reading their current state:
 * the feature state and balance are folded from the event log (events at or before `asOf`, in
 * event time, ties in recorded order then event id), the limit and status from the line changes
 * in effect by `asOf` (a noticed change taking effect at `asOf` is applied before that instant's
 * events, as the due-action job does; a change decided at `asOf` is that decision's output, not
 * its input), payment holidays from hardship offers accepted by then, and a noticed change
 * decided before `asOf` and not yet in effect from the decisions (one held for a reviewer counts
 * as pending until its effective date, since when it was resolved is not recorded). The fold then goes on to `until`, noting the worst days
 * past due reached, so a replay also knows each account's later outcome.
 *
 * Not replayed: the automated-decision opt-out (only its current value is stored) and lines
 * opened after `asOf` (absent from the result).
 */
export async function linesAsOf(
  store: Store,
  accountIds: readonly string[],
  asOf: number,
  until: number,
): Promise<Map<string, ReplayedLine>> {
  const out = new Map<string, ReplayedLine>();
  for (let i = 0; i < accountIds.length; i += IDS_PER_QUERY) {
    const ids = accountIds.slice(i, i + IDS_PER_QUERY);
    const [lines, events, changes, pending, holidays] = await Promise.all([
      store.db
        .selectFrom("credit_lines")
        .innerJoin("borrowers", "borrowers.id", "credit_lines.borrower_id")
        .select([
          "credit_lines.account_id",
          "credit_lines.borrower_id",
          "credit_lines.region",
          "credit_lines.segment",
          "credit_lines.opened_at",
          "borrowers.opt_out_automated",
        ])
        .where("credit_lines.account_id", "in", ids)
        .where("credit_lines.opened_at", "<=", asOf)
        .execute(),
      store.db
        .selectFrom("events")
        .select(["account_id", "event_id", "type", "occurred_at", "payload"])
        .where("account_id", "in", ids)
        .where("occurred_at", "<=", until)
        .orderBy("account_id")
        .orderBy("occurred_at")
        .orderBy("recorded_at")
        .orderBy("event_id")
        .execute(),
      store.db
        .selectFrom("line_changes")
        .leftJoin("decisions", "decisions.id", "line_changes.decision_id")
        .select([
          "line_changes.account_id",
          "line_changes.to_limit",
          "line_changes.to_status",
          "line_changes.effective_at",
        ])
        .where("line_changes.account_id", "in", ids)
        .where((eb) =>
          eb.or([
            eb("line_changes.effective_at", "<", asOf),
            eb.and([eb("line_changes.effective_at", "=", asOf), eb("decisions.decided_at", "<", asOf)]),
          ]),
        )
        .orderBy("line_changes.account_id")
        .orderBy("line_changes.effective_at")
        .orderBy("line_changes.recorded_at")
        .execute(),
      store.db
        .selectFrom("decisions")
        .select(["account_id", "id", "action", "decided_at"])
        .where("account_id", "in", ids)
        .where("decided_at", "<", asOf)
        .where("effective_at", ">", asOf)
        .where("status", "in", ["scheduled", "pending_review", "applied", "cancelled"])
        // A noticed rate rise waits beside the line, not in its pending slot (rateChanges.ts).
        .where("action", "not in", ["rate_increase", "rate_decrease"])
        .orderBy("account_id")
        .orderBy("decided_at")
        .execute(),
      store.db
        .selectFrom("hardship_offers")
        .innerJoin("hardship_programs", "hardship_programs.id", "hardship_offers.program_id")
        .select(["hardship_offers.account_id", "hardship_offers.program_id", "hardship_offers.responded_at"])
        .select("hardship_programs.relief")
        .where("hardship_offers.account_id", "in", ids)
        .where("hardship_offers.status", "=", "accepted")
        .where("hardship_offers.responded_at", "<=", until)
        .orderBy("hardship_offers.responded_at")
        .execute(),
    ]);
    const byAccount = <T extends { account_id: string }>(rows: T[]) => {
      const map = new Map<string, T[]>();
      for (const r of rows) {
        const list = map.get(r.account_id);
        if (list === undefined) map.set(r.account_id, [r]);
        else list.push(r);
      }
      return map;
    };
    const [eventsOf, changesOf, pendingOf, holidaysOf] = [
      byAccount(events),
      byAccount(changes),
      byAccount(pending),
      byAccount(holidays),
    ];
    for (const l of lines) {
      const accountEvents = (eventsOf.get(l.account_id) ?? []).map((e) => ({
        at: Number(e.occurred_at),
        event: {
          id: e.event_id,
          accountId: e.account_id,
          type: e.type,
          occurredAt: new Date(Number(e.occurred_at)).toISOString(),
          data: JSON.parse(e.payload),
        } as CreditEvent,
      }));
      const opening = accountEvents.find((e) => e.event.type === "account_opened")?.event;
      if (opening?.type !== "account_opened") continue;
      const line: LineRecord = {
        row: {
          account_id: l.account_id,
          borrower_id: l.borrower_id,
          // Rates are not part of a simulated decision.
          rate_terms: null,
          region: l.region,
          segment: l.segment,
          status: "ACTIVE",
          limit_amount: opening.data.initialLimit,
          balance: 0,
          opened_at: l.opened_at,
          last_change_at: null,
          recent_limits: "[]",
          pending_decision_id: null,
          pending_action: null,
          features: "",
          updated_at: asOf,
        },
        state: emptyFeatureState(l.opened_at, opening.data.declaredMonthlyIncome),
        optOutAutomated: l.opt_out_automated === 1,
        stateChanged: false,
        lineChanged: false,
      };
      for (const c of changesOf.get(l.account_id) ?? []) {
        if (c.to_limit !== line.row.limit_amount)
          rememberLimit(line.row, line.row.limit_amount, c.effective_at);
        line.row.limit_amount = c.to_limit;
        line.row.status = c.to_status;
        line.row.last_change_at = c.effective_at;
      }
      const noticed = (pendingOf.get(l.account_id) ?? []).at(-1);
      if (noticed !== undefined) {
        line.row.pending_decision_id = noticed.id;
        line.row.pending_action = noticed.action;
      }
      const reliefs = (holidaysOf.get(l.account_id) ?? []).flatMap((h) => {
        const relief = JSON.parse(h.relief) as Relief;
        const from = Number(h.responded_at);
        return relief.kind === "payment_holiday"
          ? [{ from, until: addMonths(from, relief.months), programId: h.program_id }]
          : [];
      });
      const dpdAt = (at: number) =>
        readFeatures(line.state, { limit: line.row.limit_amount, balance: line.row.balance }, at).dpd;
      const snapshot = { taken: false, features: "", balance: 0 };
      let worst = 0;
      let nextRelief = 0;
      const deferUpTo = (at: number) => {
        for (let r = reliefs[nextRelief]; r !== undefined && r.from <= at; r = reliefs[++nextRelief]) {
          if (snapshot.taken) worst = Math.max(worst, dpdAt(r.from));
          deferDues(line.state, r);
        }
      };
      const takeSnapshot = () => {
        deferUpTo(asOf);
        Object.assign(snapshot, {
          taken: true,
          features: JSON.stringify(line.state),
          balance: line.row.balance,
        });
      };
      for (const { at, event } of accountEvents) {
        if (at > asOf && !snapshot.taken) takeSnapshot();
        deferUpTo(at);
        // Days past due only fall when an event arrives, so the worst is reached just before one.
        if (snapshot.taken) worst = Math.max(worst, dpdAt(at));
        applyEvent(line.state, event, at);
        applyBalance(line, event);
      }
      if (!snapshot.taken) takeSnapshot();
      deferUpTo(until);
      worst = Math.max(worst, dpdAt(until));
      // decide() reads the line as it stood at `asOf`; the fold past it only measured the outcome.
      line.state = JSON.parse(snapshot.features) as FeatureState;
      line.row.features = snapshot.features;
      line.row.balance = snapshot.balance;
      out.set(l.account_id, { line, worstDpdAfter: worst });
    }
  }
  return out;
}
