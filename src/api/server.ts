import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Headroom } from "../services/headroom.ts";
import { installAccessControl } from "./access.ts";
import { registerConsole } from "./console.ts";
import { frameworkErrorAsProblem, installProblemHandlers } from "./problem.ts";
import { DEFAULT_RATE_LIMITS, installRateLimits, type RateLimitSettings } from "./rateLimits.ts";
import { accountEventRoutes } from "./routes/accountEvents.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { appealRoutes } from "./routes/appeals.ts";
import { auditRoutes } from "./routes/audit.ts";
import { budgetRoutes } from "./routes/budgets.ts";
import { eventRoutes } from "./routes/events.ts";
import { explanationRoutes } from "./routes/explanations.ts";
import { hardshipRoutes } from "./routes/hardship.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { personalDataRoutes } from "./routes/personalData.ts";
import { policyRoutes } from "./routes/policies.ts";
import { portfolioRoutes } from "./routes/portfolio.ts";
import { pricingRoutes } from "./routes/pricing.ts";
import { referenceRoutes } from "./routes/reference.ts";
import { riskMeasureRoutes } from "./routes/riskMeasures.ts";
import { sessionRoutes } from "./routes/session.ts";
import { simulationRoutes } from "./routes/simulations.ts";

/** A batch of 1,000 events is well under 1 MiB; anything bigger is refused before parsing. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function buildServer(
  headroom: Headroom,
  options: { logger?: boolean; consoleDir?: string; rateLimits?: RateLimitSettings } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === true ? { level: process.env.HEADROOM_LOG_LEVEL ?? "info" } : false,
    bodyLimit: MAX_BODY_BYTES,
    frameworkErrors: frameworkErrorAsProblem,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);
  installAccessControl(app, headroom);
  await installRateLimits(app, headroom, options.rateLimits ?? DEFAULT_RATE_LIMITS);
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Headroom API",
        version: "0.1.0",
        description: "Credit-line decisions with reasons, notice and a verifiable ledger.",
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(healthRoutes(headroom));
  await app.register(eventRoutes(headroom));
  await app.register(accountRoutes(headroom));
  await app.register(appealRoutes(headroom));
  await app.register(auditRoutes(headroom));
  await app.register(policyRoutes(headroom));
  await app.register(pricingRoutes(headroom));
  await app.register(hardshipRoutes(headroom));
  await app.register(portfolioRoutes(headroom));
  await app.register(explanationRoutes(headroom));
  await app.register(accountEventRoutes(headroom));
  await app.register(jobRoutes(headroom));
  await app.register(simulationRoutes(headroom));
  await app.register(budgetRoutes(headroom));
  await app.register(riskMeasureRoutes(headroom));
  await app.register(referenceRoutes());
  await app.register(sessionRoutes(headroom));
  await app.register(personalDataRoutes(headroom));
  app.get("/openapi.json", { schema: { hide: true }, config: { access: "public" } }, async () =>
    app.swagger(),
  );
  await registerConsole(app, options.consoleDir);
  return app;
}
