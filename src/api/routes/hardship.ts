import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { REGIONS, SEGMENTS } from "../../engine/events.ts";
import { FEATURE_NAMES } from "../../engine/features.ts";
import { condition } from "../../engine/policy/document.ts";
import { answerOffer, HardshipError, hardshipView, offerProgram } from "../../services/hardship.ts";
import type { Headroom } from "../../services/headroom.ts";
import { actorOf, STAFF } from "../access.ts";
import { ProblemError, problemSchema } from "../problem.ts";

const name = z.string().trim().min(1).max(200);
const relief = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("payment_holiday"), months: z.number().int().min(1).max(6) }),
  z.object({ kind: z.literal("rate_reduction"), cut: z.number().int().min(1).max(2400) }),
  z.object({ kind: z.literal("term_extension"), months: z.number().int().min(1).max(24) }),
]);
const accountParams = z.object({ accountId: z.string().min(1).max(128) });

/** HardshipError is a refusal of the request as it stands, not a server failure. */
async function refusingConflicts<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HardshipError) throw new ProblemError(409, "Conflict", error.message);
    throw error;
  }
}

/** Hardship programs: relief (holiday, lower rate, longer term) offered instead of cuts and recalls. */
export const hardshipRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/hardship-programs",
      {
        config: { access: { roles: ["approver"] } },
        schema: {
          summary: "Offer a hardship program to every open line in a region and/or segment",
          tags: ["hardship"],
          body: z.object({
            id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
            name,
            relief,
            region: z.enum(REGIONS).optional(),
            segment: z.enum(SEGMENTS).optional(),
            // Conditions on features ("dpd <= 30"), all of which a line must meet to be offered.
            eligibility: z
              .array(
                condition.refine((c) => (FEATURE_NAMES as readonly string[]).includes(c.fact), {
                  message: `eligibility reads features only (${FEATURE_NAMES.join(", ")})`,
                }),
              )
              .max(10)
              .optional(),
            startsAt: z.iso.datetime(),
            endsAt: z.iso.datetime(),
            reason: name,
          }),
          response: {
            201: z.object({ programId: z.string(), offered: z.number().int() }),
            400: problemSchema,
            409: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const result = await refusingConflicts(() =>
          offerProgram(headroom, {
            ...b,
            startsAt: Date.parse(b.startsAt),
            endsAt: Date.parse(b.endsAt),
            createdBy: actorOf(request),
          }),
        );
        return reply.code(201).send({ programId: b.id, offered: result.offered });
      },
    );

    app.get(
      "/v1/accounts/:accountId/hardship-offers",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Hardship offers made to an account, and its drawdowns' rescheduled instalments",
          tags: ["hardship"],
          params: accountParams,
          response: {
            200: z.object({
              offers: z.array(
                z.object({
                  programId: z.string(),
                  name: z.string(),
                  relief,
                  status: z.string(),
                  respondedAt: z.string().nullable(),
                  endsAt: z.string(),
                }),
              ),
              reschedules: z.array(
                z.object({
                  drawdownId: z.string(),
                  programId: z.string(),
                  at: z.string(),
                  // Due dates in epoch ms, as the sealed schedule holds them.
                  instalments: z.array(
                    z.object({
                      number: z.number().int(),
                      dueAt: z.number().int(),
                      principal: z.number().int(),
                      interest: z.number().int(),
                      total: z.number().int(),
                      balanceAfter: z.number().int(),
                    }),
                  ),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => hardshipView(headroom.store, request.params.accountId),
    );

    app.post(
      "/v1/accounts/:accountId/hardship-offers/:programId",
      {
        config: { access: { roles: [], borrower: "accountId" } },
        schema: {
          summary: "Accept or decline a hardship offer",
          tags: ["hardship"],
          params: accountParams.extend({ programId: z.string().min(1).max(64) }),
          body: z.object({ accept: z.boolean() }),
          response: {
            200: z.object({ status: z.enum(["accepted", "declined"]), rescheduled: z.number().int() }),
            400: problemSchema,
            409: problemSchema,
          },
        },
      },
      async (request) =>
        refusingConflicts(() =>
          answerOffer(headroom, request.params.accountId, request.params.programId, request.body.accept),
        ),
    );
  };
