interface Watcher {
  owner: object;
  notify: () => void;
}

/** Serialises writers in one process: SQLite has one writer, and the ledger head is one row. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private readonly watchers: Watcher[] = [];

  /**
   * `notify` runs whenever the lock is taken for work that is not `owner`'s, before that work:
   * what `owner` keeps in memory between its own transactions may be about to change.
   */
  watch(owner: object, notify: () => void): void {
    this.watchers.push({ owner, notify });
  }

  /** `owner`: whose work this is, so that its own watcher is not told. */
  async run<T>(work: () => Promise<T>, owner?: object): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      for (const watcher of this.watchers) if (watcher.owner !== owner) watcher.notify();
      return await work();
    } finally {
      release();
    }
  }
}
