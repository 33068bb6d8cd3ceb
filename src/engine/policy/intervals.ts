import type { Condition, FactName } from "../policy.ts";
import { domainOf } from "./domain.ts";

/**
 * The set of values of one fact that a conjunction of conditions allows: a closed interval on the
 * fact's domain (integer facts make every bound inclusive) minus excluded points (from !=).
 */
export interface FactInterval {
  lo: number;
  hi: number;
  /** Exclusive bounds exist only for real-valued facts. */
  loOpen: boolean;
  hiOpen: boolean;
  excluded: number[];
}

export function fullInterval(fact: FactName): FactInterval {
  const d = domainOf(fact);
  return { lo: d.min, hi: d.max, loOpen: false, hiOpen: false, excluded: [] };
}

function raiseLo(i: FactInterval, value: number, open: boolean): void {
  if (value > i.lo || (value === i.lo && open && !i.loOpen)) {
    i.lo = value;
    i.loOpen = open;
  }
}

function lowerHi(i: FactInterval, value: number, open: boolean): void {
  if (value < i.hi || (value === i.hi && open && !i.hiOpen)) {
    i.hi = value;
    i.hiOpen = open;
  }
}

export function constrain(i: FactInterval, c: Condition): void {
  const integer = domainOf(c.fact).integer;
  const v = c.value;
  switch (c.op) {
    case ">=":
      if (integer) raiseLo(i, Math.ceil(v), false);
      else raiseLo(i, v, false);
      break;
    case ">":
      if (integer) raiseLo(i, Math.floor(v) + 1, false);
      else raiseLo(i, v, true);
      break;
    case "<=":
      if (integer) lowerHi(i, Math.floor(v), false);
      else lowerHi(i, v, false);
      break;
    case "<":
      if (integer) lowerHi(i, Math.ceil(v) - 1, false);
      else lowerHi(i, v, true);
      break;
    case "==":
      if (integer && !Number.isInteger(v)) {
        i.lo = 1;
        i.hi = 0;
      } else {
        raiseLo(i, v, false);
        lowerHi(i, v, false);
      }
      break;
    case "!=":
      i.excluded.push(v);
      break;
  }
}

export function contains(i: FactInterval, v: number): boolean {
  if (v < i.lo || v > i.hi) return false;
  if ((v === i.lo && i.loOpen) || (v === i.hi && i.hiOpen)) return false;
  return !i.excluded.includes(v);
}

export function isEmpty(i: FactInterval): boolean {
  if (i.lo > i.hi) return true;
  if (i.lo === i.hi) return i.loOpen || i.hiOpen || i.excluded.includes(i.lo);
  return false;
}

/** Whether every value `inner` allows, `outer` allows too. */
export function within(inner: FactInterval, outer: FactInterval): boolean {
  if (isEmpty(inner)) return true;
  const loOk = inner.lo > outer.lo || (inner.lo === outer.lo && (!outer.loOpen || inner.loOpen));
  const hiOk = inner.hi < outer.hi || (inner.hi === outer.hi && (!outer.hiOpen || inner.hiOpen));
  return loOk && hiOk && outer.excluded.every((x) => !contains(inner, x));
}

/** The per-fact intervals a conjunction of conditions allows. */
export function box(conditions: readonly Condition[]): Map<FactName, FactInterval> {
  const byFact = new Map<FactName, FactInterval>();
  for (const c of conditions) {
    let i = byFact.get(c.fact);
    if (i === undefined) {
      i = fullInterval(c.fact);
      byFact.set(c.fact, i);
    }
    constrain(i, c);
  }
  return byFact;
}
