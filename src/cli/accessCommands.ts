import type { Command } from "commander";
import { createApiKey, ROLES, type Role, revokeApiKey, upsertUser } from "../services/access.ts";
import { openHeadroom } from "../services/headroom.ts";
import { masterKey, parseMasterKey, rotateMasterKey } from "../services/personalData.ts";

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value))
    throw new Error(`--role must be one of ${ROLES.join(", ")}, got "${value}"`);
  return value as Role;
}

/** `headroom keys ...` and `headroom users ...`: the admin's way in before any key exists. */
export function addAccessCommands(program: Command, global: () => { database?: string }): void {
  const withHeadroom = async (work: (h: Awaited<ReturnType<typeof openHeadroom>>) => Promise<void>) => {
    const headroom = await openHeadroom({ databaseUrl: global().database });
    try {
      await work(headroom);
    } finally {
      await headroom.close();
    }
  };
  const keys = program.command("keys").description("API keys for integrations (stored hashed)");
  keys
    .command("create")
    .description("create an API key and print its secret (shown once)")
    .requiredOption("--role <role>", ROLES.join(" | "))
    .requiredOption("--name <name>", "what the key is for")
    .option("--borrower <id>", "the borrower a borrower key acts for")
    .action((opts) =>
      withHeadroom(async (headroom) => {
        const key = await createApiKey(
          headroom.store,
          { name: opts.name, role: role(opts.role), borrowerId: opts.borrower ?? null },
          headroom.clock(),
        );
        process.stdout.write(`${key.secret}\n`);
        process.stderr.write(`created ${key.keyId} (${opts.role})\n`);
      }),
    );
  keys
    .command("revoke <keyId>")
    .description("revoke an API key")
    .action((keyId: string) =>
      withHeadroom(async (headroom) => {
        if (!(await revokeApiKey(headroom.store, keyId, headroom.clock())))
          throw new Error(`no active API key ${keyId}`);
        process.stdout.write(`revoked ${keyId}\n`);
      }),
    );
  keys
    .command("rotate-master")
    .description(
      "re-wrap every borrower's data key under $HEADROOM_NEW_MASTER_KEY (then make it $HEADROOM_MASTER_KEY)",
    )
    .action(() =>
      withHeadroom(async (headroom) => {
        const next = process.env.HEADROOM_NEW_MASTER_KEY;
        if (next === undefined || next === "")
          throw new Error("set HEADROOM_NEW_MASTER_KEY to the new 32-byte master key (base64 or hex)");
        const to = parseMasterKey(next);
        const count = await rotateMasterKey(headroom.store, masterKey(), to);
        process.stdout.write(`${count} borrower keys re-wrapped under master key ${to.id}\n`);
      }),
    );
  program
    .command("users")
    .description("console users")
    .command("set <username>")
    .description("add a console user or reset their password and role (password from $HEADROOM_PASSWORD)")
    .requiredOption("--role <role>", ROLES.join(" | "))
    .option("--borrower <id>", "the borrower a borrower user is")
    .action((username: string, opts) =>
      withHeadroom(async (headroom) => {
        const password = process.env.HEADROOM_PASSWORD;
        if (password === undefined || password.length < 12)
          throw new Error("set HEADROOM_PASSWORD to a password of at least 12 characters");
        await upsertUser(
          headroom.store,
          { username, password, role: role(opts.role), borrowerId: opts.borrower ?? null },
          headroom.clock(),
        );
        process.stdout.write(`user ${username} (${opts.role}) set\n`);
      }),
    );
}
