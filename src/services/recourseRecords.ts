import type { Decision, DecisionInput } from "../engine/decide.ts";
import type { FeatureState } from "../engine/features.ts";
import { bodyHash } from "../engine/ledger.ts";
import { computeRecourse, type Recourse, type RecourseContext } from "../engine/recourse.ts";
import type { DecisionRecourseTable } from "../store/schema.ts";
import { deterministicId } from "./ids.ts";

/** The recourse promised with an adverse decision, as stored and sealed beside the decision. */
export function recourseRow(
  decisionId: string,
  input: DecisionInput,
  decision: Decision,
  state: FeatureState,
  ctx: RecourseContext,
  recordedAt: number,
): DecisionRecourseTable {
  return recourseRecord(
    decisionId,
    decision.accountId,
    computeRecourse(input, decision, state, ctx),
    state,
    recordedAt,
  );
}

/** A recourse as stored beside its decision, with the feature state it was worked out from. */
export function recourseRecord(
  decisionId: string,
  accountId: string,
  recourse: Recourse,
  state: FeatureState,
  recordedAt: number,
): DecisionRecourseTable {
  const row: DecisionRecourseTable = {
    id: deterministicId("rcs", decisionId),
    decision_id: decisionId,
    account_id: accountId,
    goal: recourse.goal,
    available: recourse.available ? 1 : 0,
    recourse: JSON.stringify(recourse),
    state: JSON.stringify(state),
    by_at: recourse.by,
    created_at: recordedAt,
  };
  worked.set(row, recourse);
  return row;
}

/** The recourse each row made here was stringified from, so its notice need not parse it back. */
const worked = new WeakMap<DecisionRecourseTable, Recourse>();

export function recourseBodyHash(r: DecisionRecourseTable): string {
  return bodyHash([r.id, r.decision_id, r.account_id, r.goal, r.available, r.recourse, r.state, r.by_at]);
}

/** What a notice tells the borrower about the way back. */
export function recourseNotice(r: DecisionRecourseTable) {
  const recourse = worked.get(r) ?? (JSON.parse(r.recourse) as Recourse);
  return {
    available: recourse.available,
    by: new Date(recourse.by).toISOString(),
    limit: recourse.outcome?.limit ?? null,
    steps: recourse.steps,
    en: recourse.en,
    zh: recourse.zh,
  };
}
