import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Headroom } from "../services/headroom.ts";
import { installProblemHandlers } from "./problem.ts";
import { healthRoutes, type ReadinessProbe } from "./routes/health.ts";

/** Health, readiness and metrics only: for processes that serve no API (the stream worker). */
export async function buildOpsServer(
  headroom: Headroom,
  probes: readonly ReadinessProbe[],
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);
  await app.register(healthRoutes(headroom, probes));
  return app;
}
