import type { CreditEvent } from "./events.ts";
import { isProhibitedPurpose } from "./events.ts";
import type { FeatureState } from "./features.ts";
import { compiled } from "./policy/compile.ts";
import type { Policy } from "./policy.ts";

/**
 * Whether an event re-decides its account. The policy names the event types; within those, events
 * that cannot change the outcome do not: an on-time repayment of a line in good standing, or a
 * transaction in an allowed category, or an ordinary login. Periodic review still looks at every line.
 */
export function shouldRedecide(
  policy: Policy,
  event: CreditEvent,
  before: FeatureState,
  at: number,
  frozen: boolean,
): boolean {
  if (!policy.triggers.includes(event.type)) return false;
  switch (event.type) {
    case "repayment_made":
      return frozen || before.openDues.some((d) => d.dueAt < at);
    case "transaction":
      return isProhibitedPurpose(event.data.category, compiled(policy).prohibitedPurposes);
    case "login":
      return event.data.anomalous;
    default:
      return true;
  }
}
