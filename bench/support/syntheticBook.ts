/**
 * A synthetic book written straight into the store, for benchmarks of whole-book jobs (review,
 * simulation) at sizes the event loop would take an hour to build. Each account's feature state is
 * folded by the engine from a short random history (dues paid on time, late or not at all,
 * inquiries, other lenders), so review and simulation read exactly what ingest would have left.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decide } from "../../src/engine/decide.ts";
import { REGIONS, SEGMENTS } from "../../src/engine/events.ts";
import { applyEvent, emptyFeatureState } from "../../src/engine/features.ts";
import { seededRandom } from "../../src/engine/random.ts";
import { MS_PER_DAY } from "../../src/engine/time.ts";
import { openHeadroom } from "../../src/services/headroom.ts";
import { decisionInput, type LineRecord } from "../../src/services/lineBook.ts";
import { bookLines } from "../../src/services/lineLoader.ts";
import { repriceLine } from "../../src/services/rateChanges.ts";
import { WriteSet } from "../../src/services/writeSet.ts";
import type { BorrowerTable, CreditLineTable } from "../../src/store/schema.ts";
import { freshPostgresDatabase, postgresAvailability } from "../../test/support/stores.ts";

/** The account count and store flags every whole-book bench takes. */
function benchArgs() {
  const { values } = parseArgs({
    options: {
      accounts: { type: "string", default: "1000000" },
      store: { type: "string", default: "sqlite" },
      drifted: { type: "string", default: "0.05" },
    },
  });
  const drifted = Number(values.drifted);
  if (!(drifted >= 0 && drifted <= 1)) throw new Error("--drifted must be a share between 0 and 1");
  const accounts = Number(values.accounts);
  if (!Number.isSafeInteger(accounts) || accounts < 1) throw new Error("--accounts must be a whole number");
  if (values.store !== "sqlite" && values.store !== "postgres")
    throw new Error("--store must be sqlite or postgres");
  return { accounts, store: values.store as "sqlite" | "postgres", drifted };
}

/** A fresh, empty store of the kind asked for; `dispose` removes it. */
async function freshStore(kind: "sqlite" | "postgres", dir: string, now: number) {
  if (kind === "postgres") {
    const pg = await postgresAvailability();
    if (!pg.ok) throw new Error(pg.reason);
    const database = await freshPostgresDatabase();
    const headroom = await openHeadroom({ databaseUrl: database.url, clock: () => now });
    const dispose = async () => {
      await headroom.close();
      await database.drop();
    };
    return { headroom, dispose };
  }
  const headroom = await openHeadroom({ databaseUrl: `sqlite:${dir}/bench.db`, clock: () => now });
  return { headroom, dispose: () => headroom.close() };
}

const ROWS_PER_STATEMENT = 500;

/**
 * Writes `n` open lines (with borrowers) as of `now`; returns the seconds it took. A book under
 * periodic review is mostly settled: all but the `drifted` share of lines already hold what the
 * policy in force decides for them (as if an earlier review had set them 31-90 days ago), so a
 * review changes about that share; `drifted` 1 is a book no review has seen.
 */
async function seedBook(
  headroom: Awaited<ReturnType<typeof openHeadroom>>,
  n: number,
  now: number,
  drifted: number,
): Promise<number> {
  const started = performance.now();
  const random = seededRandom(2026);
  for (let start = 0; start < n; start += ROWS_PER_STATEMENT * 10) {
    const borrowers: BorrowerTable[] = [];
    const lines: CreditLineTable[] = [];
    for (let i = start; i < Math.min(n, start + ROWS_PER_STATEMENT * 10); i++) {
      const openedAt = now - (90 + random.int(900)) * MS_PER_DAY;
      const income = (3_000 + random.int(47_000)) * 100;
      const state = emptyFeatureState(openedAt, income);
      const id = `acct-${String(i).padStart(7, "0")}`;
      const at = (daysAgo: number) => now - daysAgo * MS_PER_DAY;
      const lateness = random.next();
      const dueDay = random.int(30);
      for (let m = 5; m >= 0; m--) {
        const dueAt = at(m * 30 + dueDay);
        const dueId = `${id}-u${m}`;
        applyEvent(
          state,
          {
            id: dueId,
            accountId: id,
            type: "repayment_due",
            occurredAt: new Date(dueAt - 20 * MS_PER_DAY).toISOString(),
            data: { dueId, amount: Math.floor(income * 0.1), dueAt: new Date(dueAt).toISOString() },
          },
          dueAt - 20 * MS_PER_DAY,
        );
        // Most pay on time; some pay late; a few stop paying (their dues stay open).
        if (lateness < 0.93 || (lateness < 0.98 && m > 1)) {
          const paidAt = lateness < 0.85 ? dueAt - MS_PER_DAY : dueAt + random.int(40) * MS_PER_DAY;
          if (paidAt < now)
            applyEvent(
              state,
              {
                id: `${id}-p${m}`,
                accountId: id,
                type: "repayment_made",
                occurredAt: new Date(paidAt).toISOString(),
                data: { amount: Math.floor(income * 0.1), dueId },
              },
              paidAt,
            );
        }
      }
      for (let q = random.poisson(1.5); q > 0; q--) state.inquiries.push(at(random.int(90)));
      for (let l = random.poisson(1); l > 0; l--)
        state.lenders[`lender-${l}`] = { openedAt: at(random.int(400)), monthlyPayment: random.int(300_000) };
      const limit = (10 + random.int(90)) * 100_000;
      const borrowerId = `b-${id}`;
      const region = random.pick(REGIONS);
      const segment = random.pick(SEGMENTS);
      borrowers.push({
        id: borrowerId,
        region,
        segment,
        declared_income: income,
        consent_bureau: 1,
        opt_out_automated: 0,
        created_at: openedAt,
      });
      const line: LineRecord = {
        row: {
          account_id: id,
          borrower_id: borrowerId,
          rate_terms: null,
          region,
          segment,
          status: "ACTIVE",
          limit_amount: limit,
          balance: Math.floor(limit * random.next()),
          opened_at: openedAt,
          last_change_at: null,
          recent_limits: "[]",
          pending_decision_id: null,
          pending_action: null,
          features: JSON.stringify(state),
          updated_at: openedAt,
        },
        state,
        optOutAutomated: false,
        stateChanged: false,
        lineChanged: false,
      };
      if (random.next() >= drifted) {
        // Phase-in moves a limit part of the way per review, so settling takes a few rounds.
        for (let round = 0; round < 40; round++) {
          const input = decisionInput(line, { kind: "review", runId: "seed" }, now);
          const settled = decide(input, headroom.engine, now);
          if (settled.action === "none") {
            // The earlier review priced the line too: its rate is the one the tier it found gives.
            repriceLine(new WriteSet(headroom.engine, now), line, input, settled, "seed");
            break;
          }
          line.row.limit_amount = settled.toLimit;
          line.row.status = settled.toStatus;
        }
        if (line.row.limit_amount !== limit) line.row.last_change_at = at(31 + random.int(60));
      }
      lines.push(line.row);
    }
    await headroom.store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < lines.length; i += ROWS_PER_STATEMENT) {
        await trx
          .insertInto("borrowers")
          .values(borrowers.slice(i, i + ROWS_PER_STATEMENT))
          .execute();
        await trx
          .insertInto("credit_lines")
          .values(lines.slice(i, i + ROWS_PER_STATEMENT))
          .execute();
      }
    });
  }
  return (performance.now() - started) / 1000;
}

/** Peak resident set size of this process so far, in MiB. */
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

/**
 * The peer both benches compare against, measured in the same run: reading every line of the
 * book and parsing its feature state, deciding nothing. What a job costs beyond it is its own.
 */
async function scanBook(headroom: Awaited<ReturnType<typeof openHeadroom>>): Promise<number> {
  const started = performance.now();
  let lines = 0;
  for await (const _ of bookLines(headroom.store)) lines++;
  return lines / ((performance.now() - started) / 1000);
}

/** CPU seconds this process has used: unlike wall time, barely moved by other processes' load. */
export const cpuSeconds = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
};

export const perSecond = (n: number, seconds: number) => Math.round(n / seconds).toLocaleString("en-US");

/** The instant a whole-book bench decides as of. */
export const BENCH_NOW = Date.UTC(2026, 10, 1);

/**
 * Runs a whole-book bench: a fresh store of the kind the flags ask for, seeded with the synthetic
 * book and scanned once bare (the peer), then `body`, then peak RSS; the store is removed after.
 */
export async function onSeededBook(
  name: string,
  body: (book: { headroom: Awaited<ReturnType<typeof openHeadroom>>; scan: number }) => Promise<void>,
): Promise<void> {
  const { accounts, store, drifted } = benchArgs();
  const dir = mkdtempSync(join(tmpdir(), `headroom-bench-${name}-`));
  const { headroom, dispose } = await freshStore(store, dir, BENCH_NOW);
  try {
    const seeded = await seedBook(headroom, accounts, BENCH_NOW, drifted);
    console.log(
      `seeded ${accounts.toLocaleString("en-US")} lines on ${store} in ${seeded.toFixed(1)} s (${drifted * 100}% drifted since the last review)`,
    );
    await body({ headroom, scan: await scanBook(headroom) });
    console.log(
      `peak RSS ${peakRssMiB().toFixed(0)} MiB; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores (above that, other processes shared the CPU)`,
    );
  } finally {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
