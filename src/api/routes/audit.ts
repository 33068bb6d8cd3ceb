import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { verifyLedger } from "../../services/audit.ts";
import type { Headroom } from "../../services/headroom.ts";

export const auditRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/audit/verify",
      {
        config: { access: { roles: ["auditor", "analyst"] } },
        schema: {
          summary: "Verify the decision ledger's hash chain and every sealed record",
          tags: ["audit"],
          response: {
            200: z.object({
              ok: z.boolean(),
              entries: z.number().int(),
              headSeq: z.number().int(),
              problems: z.array(
                z.object({ seq: z.number().nullable(), refId: z.string().nullable(), problem: z.string() }),
              ),
            }),
          },
        },
      },
      async () => verifyLedger(headroom.store),
    );
  };
