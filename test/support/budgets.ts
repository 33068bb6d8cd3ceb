import { setBudget } from "../../src/services/budgets.ts";
import type { Headroom } from "../../src/services/headroom.ts";

/** An analyst's cap (fen) on the limits of the east region's lines. */
export const eastLimitBudget = (headroom: Headroom, cap: number) =>
  setBudget(headroom, {
    scope: "region",
    value: "east",
    measure: "limit",
    cap,
    actor: "analyst-1",
    reason: "east concentration",
  });
