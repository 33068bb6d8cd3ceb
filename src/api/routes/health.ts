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

/** A probe's answer, or 503 problem+json naming the probe that failed. */
async function answer(probe: ReadinessProbe): Promise<string> {
  try {
    return await probe.check();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProblemError(503, "Not Ready", `${probe.name}: ${reason}`);
  }
}

export const healthRoutes =
  (headroom: Headroom, probes: readonly ReadinessProbe[] = []): FastifyPluginAsyncZod =>
  async (app) => {
    const storeProbe: ReadinessProbe = {
      name: "store",
      check: async () => {
        await sql`select 1`.execute(headroom.store.db);
        return headroom.store.dialect;
      },
    };
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
        await answer(storeProbe);
        const checks: Record<string, string> = {};
        for (const probe of probes) checks[probe.name] = await answer(probe);
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
      {
        // Scrapers hold an integration key; auditors may read it too.
        config: { access: { roles: ["integration", "auditor"] } },
        schema: { summary: "Prometheus metrics", tags: ["ops"], produces: ["text/plain"] },
      },
      async (_request, reply) => {
        const body = await headroom.metrics.registry.metrics();
        return reply.type(headroom.metrics.registry.contentType).send(body);
      },
    );
  };
