import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  getAccount,
  getDecision,
  listAccounts,
  listDecisions,
  listNotices,
  MAX_PAGE,
} from "../../services/accountQueries.ts";
import { decideAccountNow } from "../../services/decideNow.ts";
import type { Headroom } from "../../services/headroom.ts";
import { actorOf, STAFF } from "../access.ts";
import { notFound, problemSchema } from "../problem.ts";

export const accountId = z.string().min(1).max(128);
export const pageLimit = z.coerce.number().int().min(1).max(MAX_PAGE).default(50);
const json = z.record(z.string(), z.unknown());
export const reason = z.object({
  code: z.string(),
  feature: z.string(),
  value: z.number(),
  pointsLost: z.number().nullable(),
  en: z.string(),
  zh: z.string(),
});
export const decisionView = z.object({
  decisionId: z.string(),
  accountId: z.string(),
  trigger: z.string(),
  action: z.string(),
  ruleId: z.string().nullable(),
  status: z.string(),
  adverse: z.boolean(),
  fromLimit: z.number().int(),
  toLimit: z.number().int(),
  fromStatus: z.string(),
  toStatus: z.string(),
  score: z.number(),
  decidedAt: z.string(),
  effectiveAt: z.string(),
  recordedAt: z.string(),
  policyVersion: z.string(),
  modelVersion: z.string(),
  reasons: z.array(reason),
});
const accountSummary = z.object({
  accountId: z.string(),
  borrowerId: z.string(),
  region: z.string(),
  segment: z.string(),
  status: z.string(),
  limit: z.number().int(),
  balance: z.number().int(),
  available: z.number().int(),
  pendingAction: z.string().nullable(),
  lastChangeAt: z.string().nullable(),
});

export const accountRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/accounts",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "List credit lines (page by account id)",
          tags: ["accounts"],
          querystring: z.object({
            changed: z.enum(["true", "false"]).optional(),
            status: z.enum(["ACTIVE", "FROZEN", "CLOSED"]).optional(),
            region: z.string().min(1).max(64).optional(),
            after: accountId.optional(),
            limit: pageLimit,
          }),
          response: {
            200: z.object({ accounts: z.array(accountSummary), next: z.string().nullable() }),
            400: problemSchema,
          },
        },
      },
      async (request) => {
        const q = request.query;
        return listAccounts(headroom.store, {
          changed: q.changed === undefined ? undefined : q.changed === "true",
          status: q.status,
          region: q.region,
          after: q.after,
          limit: q.limit,
        });
      },
    );

    app.get(
      "/v1/accounts/:accountId",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "One credit line: limit, features now, history of changes and recent decisions",
          tags: ["accounts"],
          params: z.object({ accountId }),
          response: {
            200: accountSummary.extend({
              openedAt: z.string(),
              features: z.record(z.string(), z.number()),
              changes: z.array(
                z.object({
                  decisionId: z.string(),
                  fromLimit: z.number().int(),
                  toLimit: z.number().int(),
                  fromStatus: z.string(),
                  toStatus: z.string(),
                  effectiveAt: z.string(),
                }),
              ),
              decisions: z.array(decisionView),
            }),
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const account = await getAccount(headroom.store, request.params.accountId, headroom.clock());
        if (account === null) throw notFound(`account ${request.params.accountId}`);
        return account;
      },
    );

    app.get(
      "/v1/accounts/:accountId/decisions",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Decisions on one account, newest first",
          tags: ["decisions"],
          params: z.object({ accountId }),
          querystring: z.object({
            changesOnly: z.enum(["true", "false"]).default("false"),
            limit: pageLimit,
          }),
          response: { 200: z.object({ decisions: z.array(decisionView) }), 400: problemSchema },
        },
      },
      async (request) => ({
        decisions: await listDecisions(headroom.store, request.params.accountId, {
          adverseOrChange: request.query.changesOnly === "true",
          limit: request.query.limit,
        }),
      }),
    );

    app.post(
      "/v1/accounts/:accountId/decisions",
      {
        config: { access: { roles: ["analyst"] }, sensitive: true },
        schema: {
          summary: "Decide one account now (analyst, recorded as the caller); requestId makes retries safe",
          tags: ["decisions"],
          params: z.object({ accountId }),
          body: z.object({ requestId: z.string().min(1).max(128) }),
          response: { 200: z.object({ decisionId: z.string(), created: z.boolean() }), 404: problemSchema },
        },
      },
      async (request) => {
        const result = await decideAccountNow(
          headroom,
          request.params.accountId,
          actorOf(request),
          request.body.requestId,
        );
        if (result === null) throw notFound(`account ${request.params.accountId}`);
        return result;
      },
    );

    app.get(
      "/v1/decisions/:decisionId",
      {
        config: { access: { roles: STAFF, borrower: "decisionId" } },
        schema: {
          summary: "A full decision record: inputs, versions, outputs, reasons and trace",
          tags: ["decisions"],
          params: z.object({ decisionId: z.string().min(1).max(64) }),
          response: { 200: decisionView.extend({ input: json, output: json }), 404: problemSchema },
        },
      },
      async (request) => {
        const record = await getDecision(headroom.store, request.params.decisionId);
        if (record === null) throw notFound(`decision ${request.params.decisionId}`);
        return record as unknown as z.infer<typeof decisionView> & {
          input: Record<string, unknown>;
          output: Record<string, unknown>;
        };
      },
    );

    app.get(
      "/v1/accounts/:accountId/notices",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Notices sent (or queued) to the borrower of one account",
          tags: ["notices"],
          params: z.object({ accountId }),
          querystring: z.object({ limit: pageLimit }),
          response: {
            200: z.object({
              notices: z.array(
                z.object({
                  noticeId: z.string(),
                  kind: z.string(),
                  status: z.string(),
                  attempts: z.number().int(),
                  createdAt: z.string(),
                  deliveredAt: z.string().nullable(),
                  payload: json,
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => ({
        notices: await listNotices(headroom.store, request.params.accountId, request.query.limit),
      }),
    );
  };
