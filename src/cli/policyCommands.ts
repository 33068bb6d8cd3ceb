import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { lintMessages, lintPolicy } from "../engine/policy/lint.ts";
import { type Headroom, openHeadroom } from "../services/headroom.ts";
import {
  activatePolicy,
  approvePolicyVersion,
  compareArms,
  diffPolicyVersions,
  importPolicyVersion,
  rollbackPolicy,
  runShadows,
} from "../services/policyVersions.ts";

/** `headroom policy ...`: policy documents and versions. */
function withStore(program: Command, work: (headroom: Headroom) => Promise<unknown>): Promise<void> {
  return (async () => {
    const headroom = await openHeadroom({ databaseUrl: program.opts().database as string | undefined });
    try {
      const result = await work(headroom);
      process.stdout.write(`${typeof result === "string" ? result : JSON.stringify(result, null, 2)}\n`);
    } finally {
      await headroom.close();
    }
  })();
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function share(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new Error("--share must be between 0 and 1");
  return n;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command("policy").description("credit-line policy documents and versions");
  policy
    .command("check")
    .argument("<file>", "policy YAML file")
    .description(
      "validate a policy and find tier gaps, overlaps and unreachable rules; exits 1 naming each row",
    )
    .action((file: string) => {
      const lint = lintPolicy(readFileSync(file, "utf8"));
      const messages = lintMessages(file, lint);
      if (messages.length > 0) {
        process.stderr.write(`${messages.join("\n")}\n`);
        process.exitCode = 1;
        return;
      }
      const p = lint.policy;
      process.stdout.write(
        `${file}: policy ${p?.version} is valid: ${p?.tiers.rows.length} tiers, ${p?.rules.length} rules, no gaps, overlaps or unreachable rules\n`,
      );
    });
  policy
    .command("import")
    .argument("<file>", "policy YAML file")
    .requiredOption("--author <name>", "who wrote this version (cannot approve it)")
    .description("store a new draft version (refused if `policy check` finds anything)")
    .action((file: string, opts: { author: string }) =>
      withStore(program, (h) =>
        importPolicyVersion(h.store, readFileSync(file, "utf8"), opts.author, h.clock()),
      ),
    );
  policy
    .command("approve")
    .argument("<version>")
    .requiredOption("--by <name>", "the approver: not the author")
    .description("approve a draft version (maker-checker)")
    .action((version: string, opts: { by: string }) =>
      withStore(program, (h) => approvePolicyVersion(h.store, version, opts.by, h.clock())),
    );
  policy
    .command("activate")
    .argument("<version>", "champion version")
    .requiredOption("--by <name>", "who activates")
    .option("--challenger <version>", "challenger version")
    .option("--share <x>", "share of accounts the challenger decides (0..1)", share, 0.1)
    .option(
      "--shadow <version>",
      "shadow version: decided and recorded, never acted on (repeatable)",
      collect,
      [],
    )
    .description("put approved versions in force")
    .action((version: string, opts: { by: string; challenger?: string; share: number; shadow: string[] }) =>
      withStore(program, (h) =>
        activatePolicy(
          h.store,
          {
            champion: version,
            challenger: opts.challenger ?? null,
            challengerShare: opts.share,
            shadows: opts.shadow,
          },
          opts.by,
          h.clock(),
        ),
      ),
    );
  policy
    .command("rollback")
    .requiredOption("--by <name>", "who rolls back")
    .description("put the previous deployment back in force")
    .action((opts: { by: string }) => withStore(program, (h) => rollbackPolicy(h.store, opts.by, h.clock())));
  policy
    .command("diff")
    .argument("<from>")
    .argument("<to>")
    .description("rules changed between two versions and the accounts of the current book that would move")
    .action((from: string, to: string) =>
      withStore(program, (h) => diffPolicyVersions(h.store, from, to, h.clock())),
    );
  policy
    .command("shadow")
    .option("--run-id <id>", "shadow run id", "shadow")
    .description("decide the book under the shadow versions in force and record it (never acted on)")
    .action((opts: { runId: string }) =>
      withStore(
        program,
        async (h) =>
          `recorded ${await runShadows(h.store, h.engine, opts.runId, h.clock())} shadow decisions`,
      ),
    );
  policy
    .command("report")
    .description("compare the arms: decisions per policy version, acted on and shadow")
    .action(() => withStore(program, (h) => compareArms(h.store)));
}
