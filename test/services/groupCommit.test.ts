import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/services/groupCommit.ts";

describe("group commit", () => {
  it("commits items that arrive while a transaction runs together, in order, within the weight cap", async () => {
    const groups: number[][] = [];
    const committer = new GroupCommit<number, string>(
      async (items) => {
        groups.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items.map((i) => `done ${i}`);
      },
      10,
      (i) => i,
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => committer.submit(i)));
    expect(results).toEqual([1, 2, 3, 4, 5, 6].map((i) => `done ${i}`));
    expect(groups.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(groups.length).toBeLessThan(6);
    for (const group of groups) expect(group.length === 1 || group.reduce((a, b) => a + b) <= 10).toBe(true);
  });

  it("fails only the item whose commit fails; the others in its group still commit", async () => {
    const committed: number[] = [];
    const committer = new GroupCommit<number, number>(async (items) => {
      if (items.includes(3)) throw new Error("item 3 is refused");
      committed.push(...items);
      return items;
    }, 100);
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((i) => committer.submit(i)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(committed.sort()).toEqual([1, 2, 4]);
  });
});
