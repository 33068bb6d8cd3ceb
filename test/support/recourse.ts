import type { DecisionInput } from "../../src/engine/decide.ts";
import type { CreditEvent } from "../../src/engine/events.ts";
import { applyEvent, type FeatureState, GRACE_MS, owedAt, readFeatures } from "../../src/engine/features.ts";
import type { Recourse } from "../../src/engine/recourse.ts";

/**
 * Follows a recourse as the borrower would, through the real event folding: the repayments, loan
 * closures and income proof it asks for happen at once, later instalments are paid on their due
 * dates, nothing else happens, and the features are read on the promised date.
 */
export function follow(
  input: DecisionInput,
  state: FeatureState,
  recourse: Recourse,
  decidedAt: number,
): DecisionInput {
  const s = structuredClone(state);
  let balance = input.line.balance;
  const at = (t: number) => new Date(t).toISOString();
  const fold = (event: CreditEvent, when: number) => {
    applyEvent(s, event, when);
    if (event.type === "repayment_made") balance = Math.max(0, balance - event.data.amount);
  };
  const base = { accountId: input.accountId, occurredAt: at(decidedAt) };
  for (const step of recourse.steps) {
    if (step.kind === "repay_overdue")
      fold({ ...base, id: "t-repay", type: "repayment_made", data: { amount: step.amount } }, decidedAt);
    if (step.kind === "close_loans")
      for (const lender of step.lenders)
        fold({ ...base, id: `t-close-${lender}`, type: "external_loan_closed", data: { lender } }, decidedAt);
    if (step.kind === "prove_income")
      fold(
        {
          ...base,
          id: "t-income",
          type: "income_verified",
          data: { monthlyIncome: step.monthlyIncomeAtLeast, source: "payslip" },
        },
        decidedAt,
      );
  }
  for (const due of [...s.openDues]) {
    const owed = owedAt(s, due.dueAt);
    if (owed > recourse.by || owed + GRACE_MS < decidedAt) continue;
    const when = Math.max(owed, decidedAt);
    fold(
      {
        ...base,
        occurredAt: at(when),
        id: `t-${due.id}`,
        type: "repayment_made",
        data: { amount: due.remaining, dueId: due.id },
      },
      when,
    );
  }
  for (const step of recourse.steps)
    if (step.kind === "reduce_balance") balance = Math.min(balance, Math.max(0, balance - step.amount));
  return {
    ...input,
    line: { ...input.line, balance },
    features: readFeatures(s, { limit: input.line.limit, balance }, recourse.by),
    affordability: {
      income: s.verifiedIncome ?? s.declaredIncome,
      verified: s.verifiedIncome !== null,
      obligations: Object.values(s.lenders).reduce((sum, l) => sum + l.monthlyPayment, 0) + s.lastDueAmount,
    },
  };
}
