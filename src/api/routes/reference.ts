import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { REGIONS, SEGMENTS } from "../../engine/events.ts";
import { FEATURES } from "../../engine/features.ts";

/**
 * Reference data any client needs to label and filter: the feature dictionary (zh-CN and en names,
 * unit, which direction counts against the borrower) and the region and segment codes.
 */
export const referenceRoutes = (): FastifyPluginAsyncZod => async (app) => {
  app.get(
    "/v1/reference",
    {
      config: { access: "authenticated" },
      schema: {
        summary: "Feature dictionary, regions and segments",
        tags: ["reference"],
        response: {
          200: z.object({
            features: z.array(
              z.object({
                name: z.string(),
                en: z.string(),
                zh: z.string(),
                unit: z.enum(["days", "count", "ratio", "months", "flag", "fen"]),
                adverse: z.enum(["higher", "lower"]),
              }),
            ),
            regions: z.array(z.string()),
            segments: z.array(z.string()),
          }),
        },
      },
    },
    async () => ({
      features: Object.entries(FEATURES).map(([name, f]) => ({ name, ...f })),
      regions: [...REGIONS],
      segments: [...SEGMENTS],
    }),
  );
};
