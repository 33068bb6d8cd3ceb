import type { Kysely } from "kysely";
import { chainHash, GENESIS_HASH } from "../engine/ledger.ts";
import type { Store } from "../store/connect.ts";
import type {
  ApiActionTable,
  AppealEvidenceTable,
  AppealTable,
  BudgetChangeTable,
  Database,
  DecisionRecourseTable,
  DecisionTable,
  DrawdownRescheduleTable,
  DrawdownTable,
  FeeTable,
  HardshipOfferTable,
  HardshipProgramTable,
  LineChangeTable,
  ModelTransitionTable,
  OutboxTable,
  RateChangeTable,
  RebuildingPlanTable,
  RiskSettingTable,
} from "../store/schema.ts";
import { apiActionBodyHash } from "./actionLog.ts";
import { appealBodyHash, appealOutcomeHash, evidenceBodyHash } from "./appeals.ts";
import { budgetChangeBodyHash } from "./budgets.ts";
import { verifyCheckpoints } from "./checkpoints.ts";
import { feeBodyHash } from "./fees.ts";
import { offerBodyHash, programBodyHash, rescheduleBodyHash } from "./hardship.ts";
import { modelTransitionBodyHash } from "./modelRegistry.ts";
import { noticeBodyHash } from "./outbox.ts";
import { planBodyHash } from "./plans.ts";
import { rateChangeBodyHash } from "./rateChanges.ts";
import { recourseBodyHash } from "./recourseRecords.ts";
import { riskSettingBodyHash } from "./riskSettings.ts";
import { decisionBodyHash, drawdownBodyHash, lineChangeBodyHash } from "./writeSet.ts";

export interface LedgerProblem {
  seq: number | null;
  refId: string | null;
  problem: string;
}

export interface AuditReport {
  ok: boolean;
  entries: number;
  headSeq: number;
  problems: LedgerProblem[];
}

const PAGE = 2000;

/** The records a ledger entry can seal: where to load them and how their body hash is computed. */
interface SealedKind {
  label: string;
  load(db: Kysely<Database>, ids: string[]): Promise<{ id: string }[]>;
  hash(body: { id: string }): string;
}

const sealedKinds: Record<string, SealedKind> = {
  decision: {
    label: "decision",
    load: (db, ids) => db.selectFrom("decisions").selectAll().where("id", "in", ids).execute(),
    hash: (body) => decisionBodyHash(body as DecisionTable),
  },
  line_change: {
    label: "line change",
    load: (db, ids) => db.selectFrom("line_changes").selectAll().where("id", "in", ids).execute(),
    hash: (body) => lineChangeBodyHash(body as LineChangeTable),
  },
  model_transition: {
    label: "model lifecycle step",
    load: (db, ids) => db.selectFrom("model_transitions").selectAll().where("id", "in", ids).execute(),
    hash: (body) => modelTransitionBodyHash(body as ModelTransitionTable),
  },
  hardship_program: {
    label: "hardship program",
    load: (db, ids) => db.selectFrom("hardship_programs").selectAll().where("id", "in", ids).execute(),
    hash: (body) => programBodyHash(body as HardshipProgramTable),
  },
  hardship_offer: {
    label: "hardship offer answer",
    load: (db, ids) => db.selectFrom("hardship_offers").selectAll().where("id", "in", ids).execute(),
    hash: (body) => offerBodyHash(body as HardshipOfferTable),
  },
  drawdown_reschedule: {
    label: "drawdown reschedule",
    load: (db, ids) => db.selectFrom("drawdown_reschedules").selectAll().where("id", "in", ids).execute(),
    hash: (body) => rescheduleBodyHash(body as DrawdownRescheduleTable),
  },
  fee: {
    label: "fee",
    load: (db, ids) => db.selectFrom("fees").selectAll().where("id", "in", ids).execute(),
    hash: (body) => feeBodyHash(body as FeeTable),
  },
  rate_change: {
    label: "rate change",
    load: (db, ids) => db.selectFrom("rate_changes").selectAll().where("id", "in", ids).execute(),
    hash: (body) => rateChangeBodyHash(body as RateChangeTable),
  },
  drawdown: {
    label: "drawdown",
    load: (db, ids) => db.selectFrom("drawdowns").selectAll().where("id", "in", ids).execute(),
    hash: (body) => drawdownBodyHash(body as DrawdownTable),
  },
  recourse: {
    label: "recourse",
    load: (db, ids) => db.selectFrom("decision_recourse").selectAll().where("id", "in", ids).execute(),
    hash: (body) => recourseBodyHash(body as DecisionRecourseTable),
  },
  appeal: {
    label: "appeal",
    load: (db, ids) => db.selectFrom("appeals").selectAll().where("id", "in", ids).execute(),
    hash: (body) => appealBodyHash(body as AppealTable),
  },
  appeal_decision: {
    label: "appeal decision",
    load: (db, ids) => db.selectFrom("appeals").selectAll().where("id", "in", ids).execute(),
    hash: (body) => appealOutcomeHash(body as AppealTable),
  },
  evidence: {
    label: "appeal evidence",
    load: (db, ids) => db.selectFrom("appeal_evidence").selectAll().where("id", "in", ids).execute(),
    hash: (body) => evidenceBodyHash(body as AppealEvidenceTable),
  },
  budget_change: {
    label: "budget change",
    load: (db, ids) => db.selectFrom("budget_changes").selectAll().where("id", "in", ids).execute(),
    hash: (body) => budgetChangeBodyHash(body as BudgetChangeTable),
  },
  risk_setting: {
    label: "risk measure",
    load: (db, ids) => db.selectFrom("risk_settings").selectAll().where("id", "in", ids).execute(),
    hash: (body) => riskSettingBodyHash(body as RiskSettingTable),
  },
  api_action: {
    label: "API action",
    load: (db, ids) => db.selectFrom("api_actions").selectAll().where("id", "in", ids).execute(),
    hash: (body) => apiActionBodyHash(body as ApiActionTable),
  },
  notice: {
    label: "notice",
    load: (db, ids) => db.selectFrom("outbox").selectAll().where("id", "in", ids).execute(),
    hash: (body) => noticeBodyHash(body as OutboxTable),
  },
  rebuilding_plan: {
    label: "rebuilding plan",
    load: (db, ids) => db.selectFrom("rebuilding_plans").selectAll().where("id", "in", ids).execute(),
    hash: (body) => planBodyHash(body as RebuildingPlanTable),
  },
};
const MAX_PROBLEMS = 100;

/**
 * Walks the hash chain from genesis and re-hashes every sealed record. Names the row of every
 * break: an edited entry, a gap (deleted rows), a broken link (reordered or inserted rows), an
 * edited or deleted record behind an entry, a truncated tail, or a record that was never sealed.
 */
/** Records every one of which must be sealed: a row without a seal was written around Headroom. */
interface UnsealedCheck {
  kind: "decision" | "notice";
  label: string;
  table: "decisions" | "outbox";
}
const UNSEALED_CHECKS: readonly UnsealedCheck[] = [
  { kind: "decision", label: "decision", table: "decisions" },
  // Notices written before notices were sealed were sealed once when the store was opened
  // (noticeBackfill.ts), so every notice has a seal from then on.
  { kind: "notice", label: "notice", table: "outbox" },
];

/** The ids of a table's rows with no seal; read only when there are more rows than seals. */
async function unsealedIds(
  db: Kysely<Database>,
  check: UnsealedCheck,
  sealed: Set<string>,
): Promise<string[]> {
  const count = await db
    .selectFrom(check.table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(count.n) <= sealed.size) return [];
  const unsealed: string[] = [];
  let after = "";
  for (;;) {
    const ids = await db
      .selectFrom(check.table)
      .select("id")
      .where("id", ">", after)
      .orderBy("id")
      .limit(PAGE)
      .execute();
    if (ids.length === 0) return unsealed;
    for (const { id } of ids) if (!sealed.has(id) && unsealed.length < MAX_PROBLEMS) unsealed.push(id);
    after = ids[ids.length - 1]?.id ?? after;
  }
}

export async function verifyLedger(store: Store): Promise<AuditReport> {
  const db = store.db;
  const problems: LedgerProblem[] = [];
  const report = (p: LedgerProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  const sealedIds = new Map<UnsealedCheck["kind"], Set<string>>(
    UNSEALED_CHECKS.map((c) => [c.kind, new Set()]),
  );
  let lastSeq = 0;
  for (;;) {
    const rows = await db
      .selectFrom("ledger")
      .selectAll()
      .where("seq", ">", lastSeq)
      .orderBy("seq")
      .limit(PAGE)
      .execute();
    if (rows.length === 0) break;
    const bodies = new Map<string, Map<string, { id: string }>>();
    for (const [kind, sealed] of Object.entries(sealedKinds)) {
      const ids = rows.filter((r) => r.kind === kind).map((r) => r.ref_id);
      bodies.set(kind, new Map(ids.length === 0 ? [] : (await sealed.load(db, ids)).map((b) => [b.id, b])));
    }
    for (const row of rows) {
      entries++;
      if (row.seq !== expectedSeq) {
        report({
          seq: row.seq,
          refId: row.ref_id,
          problem: `ledger rows ${expectedSeq}..${row.seq - 1} are missing (deleted)`,
        });
      }
      if (row.prev_hash !== prevHash) {
        report({
          seq: row.seq,
          refId: row.ref_id,
          problem:
            "ledger row does not link to the row before it (reordered, inserted or its predecessor edited)",
        });
      }
      const recomputed = chainHash({
        seq: row.seq,
        kind: row.kind,
        refId: row.ref_id,
        bodyHash: row.body_hash,
        prevHash: row.prev_hash,
        recordedAt: row.recorded_at,
      });
      if (recomputed !== row.hash)
        report({
          seq: row.seq,
          refId: row.ref_id,
          problem: "ledger row was edited: its hash does not match its contents",
        });
      const sealed = sealedKinds[row.kind];
      sealedIds.get(row.kind as UnsealedCheck["kind"])?.add(row.ref_id);
      if (sealed !== undefined) {
        const body = bodies.get(row.kind)?.get(row.ref_id);
        if (body === undefined)
          report({ seq: row.seq, refId: row.ref_id, problem: `${sealed.label} ${row.ref_id} was deleted` });
        else if (sealed.hash(body) !== row.body_hash)
          report({
            seq: row.seq,
            refId: row.ref_id,
            problem: `${sealed.label} ${row.ref_id} was edited after it was sealed`,
          });
      }
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
      lastSeq = row.seq;
    }
  }
  const head = await db
    .selectFrom("ledger_head")
    .select(["seq", "hash"])
    .where("id", "=", 1)
    .executeTakeFirst();
  const headSeq = head?.seq ?? 0;
  if (head === undefined) report({ seq: null, refId: null, problem: "ledger head row is missing" });
  else if (head.seq !== lastSeq || head.hash !== prevHash) {
    report({
      seq: head.seq,
      refId: null,
      problem: `ledger head says row ${head.seq} but the chain ends at row ${lastSeq} (tail deleted or head edited)`,
    });
  }
  for (const check of UNSEALED_CHECKS)
    for (const id of await unsealedIds(db, check, sealedIds.get(check.kind) ?? new Set()))
      report({
        seq: null,
        refId: id,
        problem: `${check.label} ${id} is not in the ledger (inserted outside Headroom)`,
      });
  for (const p of await verifyCheckpoints(store)) report(p);
  return { ok: problems.length === 0, entries, headSeq, problems };
}
