#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package needs no build step.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import NODE_FLAGS from "./node-flags.json" with { type: "json" };

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/*
 * node-flags.json: a 32 MiB young generation (semi-space; node's default is 16). Whole-book jobs
 * and ingest's group commits keep a chunk of lines and their writes alive across each
 * transaction's awaits, and with the default every scavenge copies that chunk again.
 * bench/review.ts: 14% less CPU, lower peak RSS. The npm scripts that run the CLI pass the same
 * flag; the test and benchmark servers (test/support/server.ts) read the same file.
 */
const child = spawn(
  process.execPath,
  [
    ...NODE_FLAGS,
    "--import",
    import.meta.resolve("tsx"),
    join(root, "src/cli/main.ts"),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
// A process manager signals this wrapper; Headroom itself must get the signal to shut down
// cleanly (finish the transaction in flight, stop the checkpointer).
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) =>
  process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal])),
);
