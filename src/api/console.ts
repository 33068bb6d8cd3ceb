import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { ProblemError } from "./problem.ts";

/** Where `vite build` puts the console (see web/vite.config.ts). */
export const CONSOLE_DIR = join(import.meta.dirname, "..", "..", "web", "dist");

/** Paths the API owns: an unknown one is a problem+json 404, never the console's page. */
const API_PATHS = /^\/(v1(\/|$)|openapi\.json$|healthz$|readyz$)/;

/**
 * Serves the built console at / from the API's own process. Hashed assets are cached for good;
 * any other GET that is not an API path or a file gets index.html, so deep links like
 * /accounts/acc_1 load the app, which routes on the client.
 */
export async function registerConsole(app: FastifyInstance, dir: string = CONSOLE_DIR): Promise<void> {
  // The console's files are public (the app logs in through the API); they hold no data.
  await app.register(async (scope) => {
    scope.addHook("onRoute", (route) => {
      route.config = { ...route.config, access: "public" };
    });
    await serveConsole(scope, dir);
  });
}

async function serveConsole(app: FastifyInstance, dir: string): Promise<void> {
  if (!existsSync(join(dir, "index.html"))) {
    app.get("/", { schema: { hide: true } }, async () => {
      throw new ProblemError(503, "Console not built", `no ${dir}/index.html: run npm run build:web`);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    index: false,
    // setHeaders decides caching; send's own max-age=0 would otherwise override it.
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader(
        "cache-control",
        path.includes(`${join(dir, "assets")}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  app.get("/*", { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    if (API_PATHS.test(path) || /\.[a-z0-9]+$/i.test(path)) return reply.callNotFound();
    return reply.header("cache-control", "no-cache").sendFile("index.html");
  });
}
