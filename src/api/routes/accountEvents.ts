import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { listAccountEvents } from "../../services/accountEvents.ts";
import type { Headroom } from "../../services/headroom.ts";
import { STAFF } from "../access.ts";
import { problemSchema } from "../problem.ts";
import { accountId, pageLimit } from "./accounts.ts";

export const accountEventRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/accounts/:accountId/events",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Events ingested for one account, newest first (page back with `before`)",
          tags: ["events"],
          params: z.object({ accountId }),
          querystring: z.object({ before: z.iso.datetime().optional(), limit: pageLimit }),
          response: {
            200: z.object({
              events: z.array(
                z.object({
                  eventId: z.string(),
                  type: z.string(),
                  occurredAt: z.string(),
                  recordedAt: z.string(),
                  data: z.record(z.string(), z.unknown()),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => ({
        events: await listAccountEvents(headroom.store, request.params.accountId, {
          before: request.query.before === undefined ? undefined : Date.parse(request.query.before),
          limit: request.query.limit,
        }),
      }),
    );
  };
