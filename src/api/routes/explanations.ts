import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { getDecision } from "../../services/accountQueries.ts";
import { explainDecision } from "../../services/decisionExplanation.ts";
import type { Headroom } from "../../services/headroom.ts";
import { STAFF } from "../access.ts";
import { notFound, problemSchema } from "../problem.ts";
import { decisionView, reason } from "./accounts.ts";

const label = z.object({ en: z.string(), zh: z.string() });
const action = z.enum(["increase", "decrease", "freeze", "close", "reopen"]);
const urgency = z.enum(["urgent", "notice", "favourable"]);

export const explanationSchema = z.object({
  decision: decisionView,
  pd: z.number(),
  tier: z.string(),
  urgency: urgency.nullable(),
  requiresReview: z.boolean(),
  trace: z.object({
    target: z.number().int(),
    tierCap: z.number().int(),
    incomeLimit: z.number().int(),
    targetGap: z.number(),
    matchedRule: z.string().nullable(),
    guardrails: z.array(z.string()),
  }),
  affordability: z
    .object({
      income: z.number().int(),
      incomeVerified: z.boolean(),
      obligations: z.number().int(),
      newMinimumPayment: z.number().int(),
      // Infinite when there is no income; JSON has no infinity, so the record stores null.
      debtToIncomeAfter: z.number().nullable(),
      limitAffordable: z.number().int(),
      passed: z.boolean(),
    })
    .nullable(),
  reasons: z.array(reason),
  points: z
    .array(
      z.object({ feature: z.string(), label, value: z.number(), points: z.number(), maxPoints: z.number() }),
    )
    .nullable(),
  rules: z
    .array(
      z.object({
        id: z.string(),
        description: z.string(),
        action,
        urgency,
        outcome: z.enum(["fired", "shadowed", "not_met"]),
        conditions: z.array(
          z.object({
            fact: z.string(),
            label,
            op: z.enum([">=", ">", "<=", "<", "==", "!="]),
            value: z.number(),
            actual: z.number(),
            held: z.boolean(),
          }),
        ),
      }),
    )
    .nullable(),
  unavailable: z.array(z.string()),
});

export const explanationRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/decisions/:decisionId/explanation",
      {
        config: { access: { roles: STAFF, borrower: "decisionId" } },
        schema: {
          summary:
            "Why a decision came out as it did: points by feature, every rule with the conditions that held or failed, guardrails, reasons",
          tags: ["decisions"],
          params: z.object({ decisionId: z.string().min(1).max(64) }),
          response: { 200: explanationSchema, 404: problemSchema },
        },
      },
      async (request) => {
        const record = await getDecision(headroom.store, request.params.decisionId);
        if (record === null) throw notFound(`decision ${request.params.decisionId}`);
        return explainDecision(record, headroom.engine);
      },
    );
  };
