import { describe, expect, it } from "vitest";
import { conditionHolds } from "../../src/engine/policy/compile.ts";
import { flipValue } from "../../src/engine/policy/recourse.ts";
import type { Condition } from "../../src/engine/policy.ts";

const c = (fact: Condition["fact"], op: Condition["op"], value: number): Condition => ({ fact, op, value });

describe("condition inversion for recourse", () => {
  it("gives the nearest value on the fact's grid that flips a held or failed condition", () => {
    expect(flipValue(c("dpd", ">=", 30), 45)).toBe(29);
    expect(flipValue(c("dpd", ">=", 30), 3)).toBe(30);
    expect(flipValue(c("inquiries30d", ">", 3.5), 6)).toBe(3);
    expect(flipValue(c("score", "<", 580), 540)).toBe(580);
    expect(flipValue(c("score", ">=", 580), 540)).toBe(580);
    expect(flipValue(c("debtToIncome", ">=", 0.8), 0.93)).toBeCloseTo(0.7999, 6);
    expect(flipValue(c("utilisation", "<=", 0.9), 0.95)).toBe(0.9);
    expect(flipValue(c("frozen", "==", 1), 1)).toBe(0);
    expect(flipValue(c("monthsOnBook", "!=", 0), 4)).toBe(0);
  });

  it("returns null when no value in the fact's domain flips it", () => {
    expect(flipValue(c("dpd", ">=", 0), 12)).toBeNull();
    expect(flipValue(c("fraudFlag", "<=", 1), 1)).toBeNull();
  });

  it("always returns a value at which the condition flips", () => {
    const conditions = [
      c("dpd", ">=", 30),
      c("score", "<", 600),
      c("utilisation", ">", 0.5),
      c("closed", "!=", 1),
    ];
    for (const cond of conditions) {
      for (const actual of [0, 1, 29, 30, 31, 599, 600, 0.5, 0.75]) {
        const flipped = flipValue(cond, actual);
        if (flipped !== null) expect(conditionHolds(cond, flipped)).toBe(!conditionHolds(cond, actual));
      }
    }
  });
});
