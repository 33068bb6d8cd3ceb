import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { verifyLedger } from "../../services/audit.ts";
import { proveRecord } from "../../services/checkpoints.ts";
import type { Headroom } from "../../services/headroom.ts";
import { notFound, problemSchema } from "../problem.ts";

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

    const hex = z.string().regex(/^[0-9a-f]{64}$/);
    app.get(
      "/v1/audit/proof/:recordId",
      {
        config: { access: { roles: ["auditor", "analyst"] } },
        schema: {
          summary:
            "Inclusion proof of a sealed record against a Merkle checkpoint (check it with scripts/verify-proof.mjs)",
          tags: ["audit"],
          params: z.object({ recordId: z.string().min(1).max(128) }),
          response: {
            200: z.object({
              recordId: z.string(),
              proofs: z.array(
                z.object({
                  entry: z.object({
                    seq: z.number().int(),
                    kind: z.string(),
                    refId: z.string(),
                    bodyHash: hex,
                    prevHash: hex,
                    recordedAt: z.number().int(),
                    hash: hex,
                  }),
                  checkpoint: z.object({
                    id: z.number().int(),
                    fromSeq: z.number().int(),
                    toSeq: z.number().int(),
                    root: hex,
                    prevHash: hex,
                    createdAt: z.number().int(),
                    hash: hex,
                  }),
                  leafIndex: z.number().int(),
                  treeSize: z.number().int(),
                  path: z.array(hex),
                }),
              ),
            }),
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const proofs = await proveRecord(headroom, request.params.recordId);
        if (proofs === null) throw notFound(`ledger record ${request.params.recordId}`);
        return { recordId: request.params.recordId, proofs };
      },
    );
  };
