import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { creditEvent, MAX_EVENTS_PER_BATCH } from "../../engine/events.ts";
import type { Headroom } from "../../services/headroom.ts";
import { actionSealedWithEffects } from "../access.ts";
import { problemSchema } from "../problem.ts";

const outcome = z.object({
  id: z.string(),
  status: z.enum(["accepted", "duplicate", "rejected"]),
  decisionId: z.string().optional(),
  reason: z.string().optional(),
});

/**
 * POST /v1/events: a batch of up to 1,000 events. A batch with any invalid event is refused whole
 * (400, every invalid field named), so a client never has to work out which half landed.
 * Valid batches are idempotent by event id: a replay reports each event as a duplicate.
 */
export const eventRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/events",
      {
        config: { access: { roles: ["integration"] } },
        schema: {
          summary: "Ingest a batch of credit events",
          tags: ["events"],
          body: z.object({ events: z.array(creditEvent).min(1).max(MAX_EVENTS_PER_BATCH) }),
          response: {
            200: z.object({
              accepted: z.number().int(),
              duplicates: z.number().int(),
              rejected: z.number().int(),
              decisions: z.number().int(),
              results: z.array(outcome),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) =>
        headroom.intake.submit(request.body.events, actionSealedWithEffects(request, headroom.clock)),
    );
  };
