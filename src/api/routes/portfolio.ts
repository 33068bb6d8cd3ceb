import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { defaultModelArtifact } from "../../services/engineConfig.ts";
import type { Headroom } from "../../services/headroom.ts";
import { liveStability } from "../../services/monitoring.ts";
import { activityCounts, limitChangesOverTime, portfolioExposure } from "../../services/portfolioQueries.ts";
import { STAFF } from "../access.ts";
import { problemSchema } from "../problem.ts";

const slice = z.object({
  key: z.string(),
  accounts: z.number().int(),
  limit: z.number().int(),
  balance: z.number().int(),
  available: z.number().int(),
});
const count = z.number().int();
const band = z.enum(["stable", "watch", "shifted"]);

/** Read-only views of the whole book for the console's portfolio screen (and anyone else). */
export const portfolioRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/portfolio/exposure",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Exposure by region, segment, status and current risk tier, and the score distribution",
          tags: ["portfolio"],
          response: {
            200: z.object({
              asOf: z.string(),
              total: slice,
              byRegion: z.array(slice),
              bySegment: z.array(slice),
              byStatus: z.array(slice),
              byTier: z.array(slice),
              scoreHistogram: z.array(z.object({ from: z.number(), to: z.number(), accounts: count })),
              policyVersion: z.string(),
              modelVersion: z.string(),
            }),
          },
        },
      },
      async () => portfolioExposure(headroom.store, headroom.engine, headroom.clock()),
    );

    app.get(
      "/v1/portfolio/limit-changes",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Line changes that took effect, per day or week and per action",
          tags: ["portfolio"],
          querystring: z.object({
            bucket: z.enum(["day", "week"]).default("week"),
            from: z.iso.datetime().optional(),
            to: z.iso.datetime().optional(),
          }),
          response: {
            200: z.object({
              bucket: z.enum(["day", "week"]),
              points: z.array(
                z.object({
                  at: z.string(),
                  action: z.string(),
                  changes: count,
                  limitDelta: z.number().int(),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => {
        const { bucket, from, to } = request.query;
        return {
          bucket,
          points: await limitChangesOverTime(headroom.store, {
            bucket,
            from: from === undefined ? undefined : Date.parse(from),
            to: to === undefined ? undefined : Date.parse(to),
          }),
        };
      },
    );

    app.get(
      "/v1/portfolio/activity",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Notices by kind and delivery status; decisions by action and status",
          tags: ["portfolio"],
          response: {
            200: z.object({
              notices: z.array(z.object({ kind: z.string(), status: z.string(), count })),
              decisions: z.array(z.object({ action: z.string(), status: z.string(), count })),
            }),
          },
        },
      },
      async () => activityCounts(headroom.store),
    );

    app.get(
      "/v1/portfolio/stability",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary:
            "Population stability of live decisions against the model's held-out baseline: score PSI and feature CSI",
          tags: ["portfolio"],
          response: {
            200: z.object({
              stability: z
                .object({
                  modelVersion: z.string(),
                  decisions: count,
                  score: z.object({ psi: z.number(), band }),
                  features: z.array(z.object({ feature: z.string(), csi: z.number(), band })),
                })
                .nullable(),
            }),
          },
        },
      },
      async () => ({ stability: await liveStability(headroom.store, defaultModelArtifact()) }),
    );
  };
