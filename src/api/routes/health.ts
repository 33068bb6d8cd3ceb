import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import type { Headroom } from "../../services/headroom.ts";

export const healthRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/healthz",
      {
        config: { access: "public" },
        schema: {
          summary: "Liveness",
          tags: ["ops"],
          response: { 200: z.object({ status: z.literal("ok") }) },
        },
      },
      async () => ({ status: "ok" as const }),
    );
    app.get(
      "/readyz",
      {
        config: { access: "public" },
        schema: {
          summary: "Readiness: the store answers",
          tags: ["ops"],
          response: {
            200: z.object({
              status: z.literal("ready"),
              store: z.string(),
              policy: z.string(),
              model: z.string(),
            }),
          },
        },
      },
      async () => {
        await sql`select 1`.execute(headroom.store.db);
        return {
          status: "ready" as const,
          store: headroom.store.dialect,
          policy: headroom.engine.policy.version,
          model: headroom.engine.model.version,
        };
      },
    );
  };
