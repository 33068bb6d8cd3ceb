import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import type { Headroom } from "../../services/headroom.ts";
import { ProblemError, problemSchema } from "../problem.ts";

/**
 * One more thing a process needs before it can take work (a stream worker: its NATS connection);
 * `check` answers a short state for the readiness answer, or throws saying what is wrong.
 */
export interface ReadinessProbe {
  name: string;
  check(): Promise<string>;
}

export const healthRoutes =
  (headroom: Headroom, probes: readonly ReadinessProbe[] = []): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/healthz",
      {
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
        schema: {
          summary: "Readiness: the store answers, and so does everything else this process needs",
          tags: ["ops"],
          response: {
            200: z.object({
              status: z.literal("ready"),
              store: z.string(),
              policy: z.string(),
              model: z.string(),
              checks: z.record(z.string(), z.string()),
            }),
            503: problemSchema,
          },
        },
      },
      async () => {
        const checks: Record<string, string> = {};
        try {
          await sql`select 1`.execute(headroom.store.db);
          for (const probe of probes) checks[probe.name] = await probe.check();
        } catch (error) {
          throw new ProblemError(503, "Not Ready", error instanceof Error ? error.message : String(error));
        }
        return {
          status: "ready" as const,
          store: headroom.store.dialect,
          policy: headroom.engine.policy.version,
          model: headroom.engine.model.version,
          checks,
        };
      },
    );
    app.get(
      "/metrics",
      { schema: { summary: "Prometheus metrics", tags: ["ops"], produces: ["text/plain"] } },
      async (_request, reply) => {
        const body = await headroom.metrics.registry.metrics();
        return reply.type(headroom.metrics.registry.contentType).send(body);
      },
    );
  };
