import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Headroom } from "../../services/headroom.ts";
import { listJobProgress } from "../../services/jobProgress.ts";
import { STAFF } from "../access.ts";
import { problemSchema } from "../problem.ts";

export const jobRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/jobs",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Long jobs (reviews, simulations) and their progress from committed cursors, latest first",
          tags: ["jobs"],
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: {
            200: z.object({
              jobs: z.array(
                z.object({
                  job: z.string(),
                  kind: z.string(),
                  updatedAt: z.string(),
                  done: z.boolean(),
                  processed: z.number().int().nullable(),
                  total: z.number().int().nullable(),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => ({ jobs: await listJobProgress(headroom.store, request.query.limit) }),
    );
  };
