import { type Command, InvalidArgumentError } from "commander";
import { drainBudgetQueue } from "../services/budgetQueue.ts";
import { listBudgets, removeBudget, setBudget } from "../services/budgets.ts";
import { type Headroom, openHeadroom } from "../services/headroom.ts";
import { setRiskMeasure } from "../services/riskSettings.ts";

const SCOPES = ["total", "region", "segment", "product"] as const;
const MEASURES = ["limit", "balance"] as const;

function oneOf<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!(values as readonly string[]).includes(value))
      throw new InvalidArgumentError(`must be one of ${values.join(", ")}`);
    return value as T;
  };
}

function fen(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number of fen");
  return n;
}

async function withHeadroom(database: string | undefined, work: (h: Headroom) => Promise<void>) {
  const headroom = await openHeadroom({ databaseUrl: database });
  try {
    await work(headroom);
  } finally {
    await headroom.close();
  }
}

async function printBudgets(headroom: Headroom): Promise<void> {
  const budgets = await listBudgets(headroom.store);
  if (budgets.length === 0) process.stdout.write("no budgets\n");
  for (const b of budgets)
    process.stdout.write(
      `${b.id.padEnd(32)} cap ${b.cap} used ${b.used} room ${b.room} fen; ${b.waiting} waiting (reversals, reopenings, increases)\n`,
    );
}

/** `headroom budgets ...`: exposure budgets and their queue, as the API manages them. */
export function addBudgetCommands(program: Command, global: () => { database?: string }): void {
  const budgets = program
    .command("budgets")
    .description("exposure budgets (total, region, segment, product)");
  budgets
    .command("list")
    .description(
      "every budget with its cap, usage, room and what waits for room (reversals, reopenings, increases)",
    )
    .action(() => withHeadroom(global().database, printBudgets));
  budgets
    .command("set")
    .description("set a budget's cap (creating it); sealed in the ledger")
    .requiredOption("--scope <scope>", SCOPES.join(" | "), oneOf(SCOPES))
    .option("--value <name>", "the region, segment or product (not for total)")
    .requiredOption(
      "--measure <measure>",
      "limit (committed credit) | balance (drawn credit)",
      oneOf(MEASURES),
    )
    .requiredOption("--cap <fen>", "the cap in fen", fen)
    .requiredOption("--reason <text>", "why, for the ledger")
    .option("--by <name>", "who sets it", process.env.USER ?? "analyst")
    .action((opts) =>
      withHeadroom(global().database, async (headroom) => {
        const b = await setBudget(headroom, {
          scope: opts.scope,
          value: opts.value,
          measure: opts.measure,
          cap: opts.cap,
          actor: opts.by,
          reason: opts.reason,
        });
        process.stdout.write(`${b.id}: cap ${b.cap} used ${b.used} room ${b.room} fen\n`);
      }),
    );
  budgets
    .command("remove <id>")
    .description("remove a budget; sealed in the ledger")
    .requiredOption("--reason <text>", "why, for the ledger")
    .option("--by <name>", "who removes it", process.env.USER ?? "analyst")
    .action((id: string, opts) =>
      withHeadroom(global().database, async (headroom) => {
        await removeBudget(headroom, id, opts.by, opts.reason);
        process.stdout.write(`removed ${id}\n`);
      }),
    );
  budgets
    .command("drain")
    .description("grant what waits and now fits: reversals, then reopenings, then increases by priority")
    .action(() =>
      withHeadroom(global().database, async (headroom) => {
        const { granted, lapsed } = await drainBudgetQueue(headroom);
        process.stdout.write(`granted ${granted}, lapsed ${lapsed}\n`);
      }),
    );
}

function factor(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("must be a number such as 0.8");
  return n;
}

/** `headroom measures ...`: class-wide measures; each re-decides the lines it touches. */
export function addMeasureCommands(program: Command, global: () => { database?: string }): void {
  const measures = program
    .command("measures")
    .description("class-wide measures: regional risk factors and the portfolio stress multiplier");
  const report = (r: { settingId: string; reviewed: number; changed: number }) => {
    process.stdout.write(`${r.settingId}: ${r.reviewed} lines decided again, ${r.changed} decisions\n`);
  };
  measures
    .command("region <region>")
    .description("set a region's risk factor (multiplies its target limits; below 1 tightens)")
    .requiredOption("--factor <n>", "the factor, 0.5 to 1.5", factor)
    .requiredOption("--reason <text>", "why, for the ledger and the record")
    .option("--by <name>", "who sets it", process.env.USER ?? "analyst")
    .action((region: string, opts) =>
      withHeadroom(global().database, async (headroom) =>
        report(
          await setRiskMeasure(
            headroom,
            { kind: "region", region, factor: opts.factor },
            opts.by,
            opts.reason,
          ),
        ),
      ),
    );
  measures
    .command("stress")
    .description("set the portfolio stress multiplier (multiplies every target limit; below 1 tightens)")
    .requiredOption("--multiplier <n>", "the multiplier, 0.5 to 1.5", factor)
    .requiredOption("--reason <text>", "why, for the ledger and the record")
    .option("--by <name>", "who sets it", process.env.USER ?? "analyst")
    .action((opts) =>
      withHeadroom(global().database, async (headroom) =>
        report(
          await setRiskMeasure(headroom, { kind: "stress", factor: opts.multiplier }, opts.by, opts.reason),
        ),
      ),
    );
}
