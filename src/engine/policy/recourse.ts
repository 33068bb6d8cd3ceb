import type { Condition } from "../policy.ts";
import { conditionHolds } from "./compile.ts";
import { domainOf } from "./domain.ts";

/**
 * Condition inversion for recourse: the value of the condition's fact nearest to `actual` at which
 * the condition flips (a held condition fails, a failed one holds), on the fact's domain and step.
 * null when no value in the domain flips it (e.g. "dpd >= 0" can never fail).
 */
export function flipValue(condition: Condition, actual: number): number | null {
  const d = domainOf(condition.fact);
  const v = condition.value;
  const held = conditionHolds(condition, actual);
  // The value just above / just below v on the domain's grid.
  const above = d.integer ? Math.floor(v) + 1 : v + d.step;
  const below = d.integer ? Math.ceil(v) - 1 : v - d.step;
  const atLeast = d.integer ? Math.ceil(v) : v;
  const atMost = d.integer ? Math.floor(v) : v;
  let candidates: number[];
  switch (condition.op) {
    case ">=":
      candidates = held ? [below] : [atLeast];
      break;
    case ">":
      candidates = held ? [atMost] : [above];
      break;
    case "<=":
      candidates = held ? [above] : [atMost];
      break;
    case "<":
      candidates = held ? [atLeast] : [below];
      break;
    case "==":
      candidates = held ? [below, above] : [v];
      break;
    case "!=":
      candidates = held ? [v] : [below, above];
      break;
  }
  const valid = candidates.filter(
    (x) =>
      x >= d.min &&
      x <= d.max &&
      (!d.integer || Number.isInteger(x)) &&
      conditionHolds(condition, x) !== held,
  );
  if (valid.length === 0) return null;
  return valid.reduce((best, x) => (Math.abs(x - actual) < Math.abs(best - actual) ? x : best));
}
