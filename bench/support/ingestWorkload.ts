import { type CreditEvent, MAX_EVENTS_PER_BATCH } from "../../src/engine/events.ts";
import { seededRandom } from "../../src/engine/random.ts";
import { MS_PER_DAY } from "../../src/engine/time.ts";
import { borrowerEvents } from "../../src/services/demo/behaviour.ts";
import { loadRealProfiles, syntheticProfile } from "../../src/services/demo/borrowerProfiles.ts";

/** Who a workload's borrowers are: the measured book, or another book the server warms up on. */
export interface WorkloadBook {
  /** The first borrower's index; account ids follow from it (acc_0000000 for 0). */
  firstIndex: number;
  seed: number;
  label: string;
}

export const MEASURED_BOOK: WorkloadBook = { firstIndex: 0, seed: 11, label: "workload" };
/**
 * Accounts no measured account shares, drawn with another seed: the same kinds of events over the
 * same months, so the server runs every path of the loop before the measured run starts.
 */
export const WARMUP_BOOK: WorkloadBook = { firstIndex: 5_000_000, seed: 12, label: "warm-up" };

/**
 * The ingest benchmarks' workload: `months` of behaviour of `borrowers` borrowers (sampled from
 * Give Me Some Credit rows when ../shared/data has them), in time order, cut into batches of 1,000.
 */
export async function ingestWorkload(
  borrowers: number,
  months: number,
  end: number,
  book: WorkloadBook = MEASURED_BOOK,
): Promise<CreditEvent[][]> {
  const random = seededRandom(book.seed);
  const real = await loadRealProfiles(borrowers * 4);
  const events: CreditEvent[] = [];
  for (let i = 0; i < borrowers; i++) {
    const profile =
      real !== null ? (real[random.int(real.length)] ?? syntheticProfile(random)) : syntheticProfile(random);
    events.push(
      ...borrowerEvents(book.firstIndex + i, profile, random, end - months * 30 * MS_PER_DAY, months, end),
    );
  }
  const at = new Map(events.map((e) => [e, Date.parse(e.occurredAt)]));
  events.sort((a, b) => (at.get(a) as number) - (at.get(b) as number));
  const batches: CreditEvent[][] = [];
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH)
    batches.push(events.slice(i, i + MAX_EVENTS_PER_BATCH));
  console.log(
    `${book.label}: ${borrowers} borrowers (${real !== null ? "Give Me Some Credit rows" : "built-in profiles"}), ${events.length} events, ${batches.length} batches`,
  );
  return batches;
}
