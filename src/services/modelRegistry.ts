import { bodyHash } from "../engine/ledger.ts";
import type { Scorecard } from "../engine/scorecard/scorecard.ts";
import type { TrainingReport } from "../engine/scorecard/train.ts";
import type { ValidationReport } from "../engine/scorecard/validation.ts";
import type { Store } from "../store/connect.ts";
import type { ModelTransitionTable, ModelVersionTable } from "../store/schema.ts";
import { appendToLedger } from "./writeSet.ts";

export const MODEL_STATES = ["draft", "validated", "approved", "active", "challenger", "retired"] as const;
export type ModelState = (typeof MODEL_STATES)[number];

/** The lifecycle: who may move a version where. Anything else is refused. */
const ALLOWED: Record<ModelState, readonly ModelState[]> = {
  draft: ["validated", "retired"],
  validated: ["approved", "retired"],
  approved: ["active", "challenger", "retired"],
  challenger: ["active", "retired"],
  active: ["retired"],
  retired: [],
};

export class ModelRegistryError extends Error {}

export interface ModelVersion {
  version: string;
  kind: string;
  state: ModelState;
  author: string;
  approvedBy: string | null;
  scorecard: Scorecard;
  training: TrainingReport;
  validation: ValidationReport;
  createdAt: number;
  updatedAt: number;
}

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function modelTransitionBodyHash(t: ModelTransitionTable): string {
  return bodyHash([t.id, t.version, t.from_state, t.to_state, t.actor, t.reason, t.at]);
}

/** Registers a trained scorecard as a draft, sealing its artifact in the ledger. */
export async function registerDraft(
  store: Store,
  draft: { scorecard: Scorecard; training: TrainingReport; validation: ValidationReport; author: string },
  at: number,
): Promise<ModelVersion> {
  const { version } = draft.scorecard;
  if (!VERSION_PATTERN.test(version)) {
    throw new ModelRegistryError(
      `version "${version}" must be 1-64 letters, digits, dots, dashes or underscores`,
    );
  }
  if (draft.author.trim() === "") throw new ModelRegistryError("a model version needs an author");
  return store.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("model_versions")
      .select("version")
      .where("version", "=", version)
      .executeTakeFirst();
    if (existing !== undefined) throw new ModelRegistryError(`model version ${version} already exists`);
    const row: ModelVersionTable = {
      version,
      kind: "scorecard",
      state: "draft",
      author: draft.author,
      approved_by: null,
      artifact: JSON.stringify(draft.scorecard),
      training_summary: JSON.stringify(draft.training),
      validation_report: JSON.stringify(draft.validation),
      created_at: at,
      updated_at: at,
    };
    await trx.insertInto("model_versions").values(row).execute();
    const step = transitionRow(
      version,
      "new",
      "draft",
      draft.author,
      `registered; artifact sha256 ${bodyHash([row.artifact])}`,
      at,
    );
    await trx.insertInto("model_transitions").values(step).execute();
    await appendToLedger(
      trx,
      store,
      [{ kind: "model_transition", refId: step.id, bodyHash: modelTransitionBodyHash(step) }],
      at,
    );
    return toModelVersion(row);
  });
}

/**
 * Moves a version along its lifecycle. Approval needs a second person (never the author);
 * activating a version retires the one active before it. Every step is sealed in the ledger.
 */
export async function moveModel(
  store: Store,
  version: string,
  to: ModelState,
  actor: string,
  reason: string,
  at: number,
): Promise<ModelVersion> {
  if (actor.trim() === "") throw new ModelRegistryError("every lifecycle step needs the actor's name");
  if (reason.trim() === "") throw new ModelRegistryError("every lifecycle step needs a written reason");
  return store.db.transaction().execute(async (trx) => {
    let query = trx.selectFrom("model_versions").selectAll().where("version", "=", version);
    if (store.dialect === "postgres") query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (row === undefined) throw new ModelRegistryError(`model version ${version} does not exist`);
    const from = row.state as ModelState;
    if (!ALLOWED[from].includes(to)) {
      throw new ModelRegistryError(
        `model ${version} is ${from}; it cannot become ${to} (allowed: ${ALLOWED[from].join(", ") || "none"})`,
      );
    }
    if (to === "approved" && actor === row.author) {
      throw new ModelRegistryError(`model ${version} was built by ${actor}; a second person must approve it`);
    }
    const steps: ModelTransitionTable[] = [];
    if (to === "active") {
      const previous = await trx
        .selectFrom("model_versions")
        .select("version")
        .where("state", "=", "active")
        .execute();
      for (const p of previous) {
        await trx
          .updateTable("model_versions")
          .set({ state: "retired", updated_at: at })
          .where("version", "=", p.version)
          .execute();
        steps.push(transitionRow(p.version, "active", "retired", actor, `replaced by ${version}`, at));
      }
    }
    await trx
      .updateTable("model_versions")
      .set({ state: to, updated_at: at, ...(to === "approved" ? { approved_by: actor } : {}) })
      .where("version", "=", version)
      .execute();
    steps.push(transitionRow(version, from, to, actor, reason, at));
    await trx.insertInto("model_transitions").values(steps).execute();
    await appendToLedger(
      trx,
      store,
      steps.map((s) => ({ kind: "model_transition", refId: s.id, bodyHash: modelTransitionBodyHash(s) })),
      at,
    );
    return toModelVersion({
      ...row,
      state: to,
      updated_at: at,
      approved_by: to === "approved" ? actor : row.approved_by,
    });
  });
}

export async function getModel(store: Store, version: string): Promise<ModelVersion | null> {
  const row = await store.db
    .selectFrom("model_versions")
    .selectAll()
    .where("version", "=", version)
    .executeTakeFirst();
  return row === undefined ? null : toModelVersion(row);
}

export async function listModels(store: Store): Promise<Omit<ModelVersion, "scorecard" | "training">[]> {
  const rows = await store.db
    .selectFrom("model_versions")
    .selectAll()
    .orderBy("created_at")
    .limit(500)
    .execute();
  return rows.map((r) => {
    const { scorecard: _s, training: _t, ...summary } = toModelVersion(r);
    return summary;
  });
}

export async function modelHistory(store: Store, version: string): Promise<ModelTransitionTable[]> {
  return store.db
    .selectFrom("model_transitions")
    .selectAll()
    .where("version", "=", version)
    .orderBy("at")
    .execute();
}

function transitionRow(
  version: string,
  from: string,
  to: string,
  actor: string,
  reason: string,
  at: number,
): ModelTransitionTable {
  return {
    id: `mt_${version}_${from}_${to}_${at}`,
    version,
    from_state: from,
    to_state: to,
    actor,
    reason,
    at,
  };
}

function toModelVersion(row: ModelVersionTable): ModelVersion {
  return {
    version: row.version,
    kind: row.kind,
    state: row.state as ModelState,
    author: row.author,
    approvedBy: row.approved_by,
    scorecard: JSON.parse(row.artifact) as Scorecard,
    training: JSON.parse(row.training_summary) as TrainingReport,
    validation: JSON.parse(row.validation_report) as ValidationReport,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
