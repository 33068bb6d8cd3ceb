import { setImmediate } from "node:timers/promises";

const MAX_GATHER_ROUNDS = 8;

interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: while one transaction runs, arriving items wait; the next transaction takes all of
 * them together, so a busy writer commits fewer, larger transactions and a quiet one commits each
 * item alone. `commit` returns one result per item, in order.
 */
export class GroupCommit<Item, Result> {
  private readonly waiting: Waiting<Item, Result>[] = [];
  private draining = false;

  constructor(
    private readonly commit: (items: Item[]) => Promise<Result[]>,
    /** The most one transaction takes, in `weight` units (an item heavier than this goes alone). */
    private readonly maxWeight: number,
    private readonly weight: (item: Item) => number = () => 1,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        await this.gather();
        await this.commitGroup(this.takeGroup());
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * A SQLite transaction never yields to I/O (the driver is synchronous), so requests that arrived
   * meanwhile are still unread. Let them in, for as long as more keep arriving (a few rounds at
   * most), before choosing the group.
   */
  private async gather(): Promise<void> {
    let seen = -1;
    for (let round = 0; round < MAX_GATHER_ROUNDS && this.waiting.length !== seen; round++) {
      seen = this.waiting.length;
      await setImmediate();
    }
  }

  private takeGroup(): Waiting<Item, Result>[] {
    const group: Waiting<Item, Result>[] = [];
    let weight = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as Waiting<Item, Result>;
      const w = this.weight(next.item);
      if (group.length > 0 && weight + w > this.maxWeight) break;
      group.push(next);
      weight += w;
      this.waiting.shift();
    }
    return group;
  }

  private async commitGroup(group: Waiting<Item, Result>[]): Promise<void> {
    try {
      const results = await this.commit(group.map((w) => w.item));
      group.forEach((w, i) => {
        w.resolve(results[i] as Result);
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // One item's failure must not fail the others: commit each alone to find out whose it is.
      for (const w of group) await this.commitGroup([w]);
    }
  }
}
