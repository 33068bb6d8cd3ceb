import { build } from "vite";
import { ROOT } from "../support/server.ts";

/** Vitest global setup for the browser tests: the server serves web/dist, so build it first. */
export default async function buildConsole(): Promise<void> {
  await build({ configFile: `${ROOT}/web/vite.config.ts`, logLevel: "warn" });
}
