import { type CreditEvent, MAX_EVENTS_PER_BATCH } from "../../engine/events.ts";
import { seededRandom } from "../../engine/random.ts";
import { MS_PER_DAY } from "../../engine/time.ts";
import { type IngestDeps, ingestBatches, MAX_EVENTS_PER_TRANSACTION } from "../ingest.ts";
import { borrowerEvents } from "./behaviour.ts";
import { type BorrowerProfile, loadRealProfiles, syntheticProfile } from "./borrowerProfiles.ts";

export interface DemoOptions {
  borrowers: number;
  months: number;
  seed: number;
  /** The demo's "today": its behaviour ends here. */
  end: number;
}

export interface DemoProgress {
  phase: "generate" | "ingest";
  done: number;
  total: number;
}

export const MAX_DEMO_BORROWERS = 2_000_000;

/**
 * Builds a demo portfolio: borrowers sampled from real rows of Give Me Some Credit (or built-in
 * distributions), then months of their behaviour streamed through the real decision loop.
 */
export async function seedDemo(
  deps: IngestDeps,
  options: DemoOptions,
  onProgress: (p: DemoProgress) => void = () => {},
): Promise<{ source: "give-me-some-credit" | "built-in"; events: number; decisions: number }> {
  if (
    !Number.isInteger(options.borrowers) ||
    options.borrowers < 1 ||
    options.borrowers > MAX_DEMO_BORROWERS
  ) {
    throw new RangeError(`borrowers must be a whole number from 1 to ${MAX_DEMO_BORROWERS}`);
  }
  if (!Number.isInteger(options.months) || options.months < 1 || options.months > 36) {
    throw new RangeError("months must be a whole number from 1 to 36");
  }
  const random = seededRandom(options.seed);
  const real = await loadRealProfiles(options.borrowers * 4);
  const pickProfile = (): BorrowerProfile =>
    real !== null && real.length > 0
      ? (real[random.int(real.length)] as BorrowerProfile)
      : syntheticProfile(random);
  const start = options.end - options.months * 30 * MS_PER_DAY;
  const events: CreditEvent[] = [];
  for (let i = 0; i < options.borrowers; i++) {
    for (const e of borrowerEvents(i, pickProfile(), random, start, options.months, options.end))
      events.push(e);
    if (i % 1000 === 0) onProgress({ phase: "generate", done: i, total: options.borrowers });
  }
  // Stream in time order, as a core banking system would send them.
  const times = new Map(events.map((e) => [e, Date.parse(e.occurredAt)]));
  events.sort((a, b) => (times.get(a) as number) - (times.get(b) as number));
  let decisions = 0;
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_TRANSACTION) {
    const group: CreditEvent[][] = [];
    const end = Math.min(i + MAX_EVENTS_PER_TRANSACTION, events.length);
    for (let j = i; j < end; j += MAX_EVENTS_PER_BATCH) {
      group.push(events.slice(j, Math.min(j + MAX_EVENTS_PER_BATCH, end)));
    }
    for (const result of await ingestBatches(deps, group)) decisions += result.decisions;
    onProgress({ phase: "ingest", done: end, total: events.length });
  }
  return { source: real !== null ? "give-me-some-credit" : "built-in", events: events.length, decisions };
}
