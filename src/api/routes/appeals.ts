import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { EVIDENCE_KINDS, EVIDENCE_LIMITS, EvidenceRejected } from "../../services/appealEvidence.ts";
import {
  AppealRefused,
  accountAppeals,
  decideAppeal,
  fileAppeal,
  getAppeal,
  getEvidence,
  reviewQueue,
  setAutomatedDecisionOptOut,
} from "../../services/appeals.ts";
import type { Headroom } from "../../services/headroom.ts";
import { latestRecourse, listPlans } from "../../services/plans.ts";
import { actorOf, STAFF } from "../access.ts";
import { notFound, ProblemError, problemSchema } from "../problem.ts";

const accountId = z.string().min(1).max(128);
const appealView = z.object({
  appealId: z.string(),
  accountId: z.string(),
  decisionId: z.string(),
  kind: z.string(),
  statement: z.string(),
  status: z.string(),
  pausedAction: z.boolean(),
  filedAt: z.string(),
  deadlineAt: z.string(),
  reviewer: z.string().nullable(),
  outcomeReason: z.string().nullable(),
  outcomeLimit: z.number().int().nullable(),
  decidedAt: z.string().nullable(),
  evidence: z.array(
    z.object({
      evidenceId: z.string(),
      kind: z.string(),
      filename: z.string(),
      contentType: z.string(),
      sizeBytes: z.number().int(),
      sha256: z.string(),
    }),
  ),
});
const json = z.record(z.string(), z.unknown());
const TITLES: Record<number, string> = {
  404: "Not Found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
};

/** Service refusals become problem+json naming the field they concern. */
async function refusalsAsProblems<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppealRefused) {
      const where = error.field === null ? "" : `/body/${error.field}: `;
      throw new ProblemError(error.status, TITLES[error.status] as string, `${where}${error.message}`);
    }
    if (error instanceof EvidenceRejected) {
      const status = error.field === "contentType" ? 415 : error.message.includes("limit is") ? 413 : 400;
      throw new ProblemError(
        status,
        TITLES[status] ?? "Invalid request",
        `/body/evidence/${error.index}${error.field === "" ? "" : `/${error.field}`}: ${error.message}`,
      );
    }
    throw error;
  }
}

/**
 * The borrower's way back: appeals with evidence, the reviewer's queue and decisions, the opt-out
 * from solely automated decisions, and the recourse and rebuilding plans of an account.
 */
export const appealRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/accounts/:accountId/appeals",
      {
        config: { access: { roles: [], borrower: "accountId" }, sensitive: true },
        schema: {
          summary: "Appeal an adverse decision with a statement and evidence (pauses a noticed change)",
          tags: ["appeals"],
          params: z.object({ accountId }),
          body: z.object({
            decisionId: z.string().min(1).max(64),
            statement: z.string().trim().min(10).max(4000),
            requestId: z.string().min(1).max(128),
            evidence: z
              .array(
                z.object({
                  kind: z.enum(EVIDENCE_KINDS),
                  filename: z.string().min(1).max(200),
                  contentType: z.string().min(1).max(100),
                  content: z
                    .string()
                    .min(1)
                    .max(Math.ceil(EVIDENCE_LIMITS.maxBytes / 3) * 4 + 4)
                    .describe("the file, base64"),
                }),
              )
              .max(EVIDENCE_LIMITS.maxFiles)
              .default([]),
          }),
          response: {
            201: appealView,
            400: problemSchema,
            404: problemSchema,
            409: problemSchema,
            413: problemSchema,
            415: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const appeal = await refusalsAsProblems(() =>
          fileAppeal(headroom, request.params.accountId, request.body),
        );
        return reply.status(201).send(appeal);
      },
    );

    app.get(
      "/v1/accounts/:accountId/appeals",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "An account's appeals with their status and outcome, newest first",
          tags: ["appeals"],
          params: z.object({ accountId }),
          response: { 200: z.object({ appeals: z.array(appealView) }), 400: problemSchema },
        },
      },
      async (request) => ({ appeals: await accountAppeals(headroom, request.params.accountId) }),
    );

    app.get(
      "/v1/appeals",
      {
        config: { access: { roles: ["reviewer", "auditor"] } },
        schema: {
          summary: "The reviewer's queue: open appeals and opt-out reviews, soonest deadline first",
          tags: ["appeals"],
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
          response: { 200: z.object({ appeals: z.array(appealView) }), 400: problemSchema },
        },
      },
      async (request) => ({ appeals: await reviewQueue(headroom, request.query.limit) }),
    );

    app.get(
      "/v1/appeals/:appealId",
      {
        config: { access: { roles: ["reviewer", "auditor", "analyst"], borrower: "appealId" } },
        schema: {
          summary: "One appeal with its evidence (hash, size, type) and outcome",
          tags: ["appeals"],
          params: z.object({ appealId: z.string().min(1).max(64) }),
          response: { 200: appealView, 404: problemSchema },
        },
      },
      async (request) => {
        const appeal = await getAppeal(headroom, request.params.appealId);
        if (appeal === null) throw notFound(`appeal ${request.params.appealId}`);
        return appeal;
      },
    );

    app.get(
      "/v1/appeals/:appealId/evidence/:evidenceId",
      {
        config: { access: { roles: ["reviewer", "auditor"], borrower: "appealId" } },
        schema: {
          summary: "One evidence file as uploaded, for the reviewer to open",
          tags: ["appeals"],
          params: z.object({ appealId: z.string().min(1).max(64), evidenceId: z.string().min(1).max(64) }),
          // No response schema: the answer is the file's bytes; a missing file is problem+json.
        },
      },
      async (request, reply) => {
        const { appealId, evidenceId } = request.params;
        const file = await getEvidence(headroom, appealId, evidenceId);
        if (file === null) throw notFound(`evidence ${evidenceId} of appeal ${appealId}`);
        // Shown inline only for the checked types; nosniff keeps the browser from guessing others.
        return reply
          .type(file.contentType)
          .header("x-content-type-options", "nosniff")
          .header("content-disposition", `inline; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
          .send(file.bytes);
      },
    );

    app.post(
      "/v1/appeals/:appealId/decision",
      {
        config: { access: { roles: ["reviewer"] } },
        schema: {
          summary: "A reviewer upholds, reverses or adjusts, with a written reason",
          tags: ["appeals"],
          params: z.object({ appealId: z.string().min(1).max(64) }),
          body: z.object({
            outcome: z.enum(["uphold", "reverse", "adjust"]),
            reason: z.string().min(1).max(4000),
            limit: z.number().int().nonnegative().max(1e13).optional(),
            verifiedMonthlyIncome: z.number().int().positive().max(1e13).optional(),
          }),
          response: { 200: appealView, 404: problemSchema, 409: problemSchema, 422: problemSchema },
        },
      },
      async (request) =>
        refusalsAsProblems(() =>
          decideAppeal(headroom, request.params.appealId, { ...request.body, reviewer: actorOf(request) }),
        ),
    );

    app.put(
      "/v1/accounts/:accountId/automated-decisions",
      {
        config: { access: { roles: [], borrower: "accountId" } },
        schema: {
          summary: "Opt out of (or back into) solely automated decisions",
          tags: ["appeals"],
          params: z.object({ accountId }),
          body: z.object({ optOut: z.boolean() }),
          response: {
            200: z.object({ accountId: z.string(), optOutAutomated: z.boolean() }),
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const result = await setAutomatedDecisionOptOut(
          headroom,
          request.params.accountId,
          request.body.optOut,
        );
        if (result === null) throw notFound(`account ${request.params.accountId}`);
        return result;
      },
    );

    app.get(
      "/v1/accounts/:accountId/recourse",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "What would restore the line: the recourse of the latest adverse decision",
          tags: ["appeals"],
          params: z.object({ accountId }),
          response: {
            200: z.object({ recourseId: z.string(), decisionId: z.string(), recourse: json }),
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const recourse = await latestRecourse(headroom, request.params.accountId);
        if (recourse === null) throw notFound(`an adverse decision on account ${request.params.accountId}`);
        return recourse;
      },
    );

    app.get(
      "/v1/accounts/:accountId/plans",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Rebuilding plans of a frozen or closed line, with their checkpoints",
          tags: ["appeals"],
          params: z.object({ accountId }),
          response: { 200: z.object({ plans: z.array(json) }) },
        },
      },
      async (request) => ({ plans: await listPlans(headroom, request.params.accountId) }),
    );
  };
