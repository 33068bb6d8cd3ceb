#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { addAccessCommands } from "./accessCommands.ts";
import { addBudgetCommands, addMeasureCommands } from "./budgetCommands.ts";
import { runCli } from "./commands.ts";
import { addModelCommands } from "./modelCommands.ts";
import { registerPolicyCommands } from "./policyCommands.ts";
import { addSimulateCommand } from "./simulateCommand.ts";
import { addStreamCommands } from "./streamCommands.ts";
import { addStressCommand } from "./stressCommand.ts";

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number");
  return n;
}

const program = new Command()
  .name("headroom")
  .description("Credit-line decisions with reasons, notice, recourse and a verifiable ledger")
  .option(
    "--database <url>",
    "sqlite:PATH or postgres://... (default: $HEADROOM_DATABASE_URL or sqlite:data/headroom.db)",
  )
  .showHelpAfterError();

program
  .command("serve")
  .description("serve the API on localhost, with notice delivery and due actions running")
  .option("--port <n>", "port", wholeNumber, 8080)
  .option("--host <host>", "interface to bind", "127.0.0.1")
  .option("--no-background", "API only: leave notice delivery and due actions to another process")
  .action((opts) => runCli("serve", program.opts(), opts));

program
  .command("start")
  .description("seed the demo portfolio if the store is empty, then serve")
  .option("--port <n>", "port", wholeNumber, 8080)
  .option("--host <host>", "interface to bind", "127.0.0.1")
  .option("--borrowers <n>", "demo borrowers", wholeNumber, 10_000)
  .option("--months <n>", "months of demo behaviour", wholeNumber, 6)
  .action((opts) => runCli("start", program.opts(), opts));

program
  .command("demo")
  .description(
    "create a synthetic portfolio sampled from real rows and stream its behaviour through the loop",
  )
  .option("--borrowers <n>", "borrowers", wholeNumber, 10_000)
  .option("--months <n>", "months of behaviour", wholeNumber, 6)
  .option("--seed <n>", "random seed", wholeNumber, 42)
  .action((opts) => runCli("demo", program.opts(), opts));

program
  .command("review")
  .description("re-decide every open account (resumable: the same --run-id continues where it stopped)")
  .option("--run-id <id>", "review run id (default: review-YYYY-MM-DD)")
  .action((opts) => runCli("review", program.opts(), opts));

program
  .command("notices")
  .description(
    "the notice worker: deliver the outbox (log; signed webhook from $HEADROOM_WEBHOOK_URL and $HEADROOM_WEBHOOK_SECRET)",
  )
  .option("--interval <ms>", "pause between delivery passes", wholeNumber, 500)
  .action((opts) => runCli("notices", program.opts(), opts));

program
  .command("apply-due")
  .description("carry out announced changes whose notice period has run")
  .action((opts) => runCli("apply-due", program.opts(), opts));

program
  .command("fees")
  .description("charge over-limit fees (never within 45 days of the notice of the cut behind them)")
  .action((opts) => runCli("fees", program.opts(), opts));

const audit = program.command("audit").description("ledger checks");
audit
  .command("verify")
  .description("verify the hash chain and every sealed record; exits 1 naming each broken row")
  .action((opts) => runCli("audit-verify", program.opts(), opts));
audit
  .command("checkpoint")
  .description("seal Merkle checkpoints over every ledger row not yet covered (the last block partly)")
  .action((opts) => runCli("audit-checkpoint", program.opts(), opts));

registerPolicyCommands(program);
addModelCommands(program, () => program.opts());
addStressCommand(
  addSimulateCommand(program, () => program.opts()),
  () => program.opts(),
);
addStreamCommands(program, () => program.opts());
addBudgetCommands(program, () => program.opts());
addMeasureCommands(program, () => program.opts());
addAccessCommands(program, () => program.opts());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`headroom: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
