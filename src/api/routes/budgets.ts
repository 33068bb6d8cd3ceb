import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { drainBudgetQueue } from "../../services/budgetQueue.ts";
import { BudgetError, budgetQueue, listBudgets, removeBudget, setBudget } from "../../services/budgets.ts";
import type { Headroom } from "../../services/headroom.ts";
import { actorOf } from "../access.ts";
import { ProblemError, problemSchema } from "../problem.ts";

const text = z.string().trim().min(1).max(200);
const fen = z.number().int().nonnegative().max(1e15);
const budget = z.object({
  id: z.string(),
  scope: z.string(),
  measure: z.enum(["limit", "balance"]),
  cap: z.number().int(),
  used: z.number().int(),
  room: z.number().int(),
  waiting: z.number().int(),
  updatedAt: z.string(),
});
const entry = z.object({
  kind: z.enum(["increase", "reversal", "reopen"]),
  appealId: z.string().nullable(),
  accountId: z.string(),
  decisionId: z.string(),
  fromLimit: z.number().int(),
  requestedLimit: z.number().int(),
  pd: z.number(),
  requestedAt: z.string(),
  status: z.string(),
  settledAt: z.string().nullable(),
  settledDecisionId: z.string().nullable(),
});

/** BudgetError is a refusal of the request as it stands, not a server failure. */
async function refusing<T>(status: 400 | 404, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BudgetError)
      throw new ProblemError(status, status === 404 ? "Not Found" : "Invalid request", error.message);
    throw error;
  }
}

/** Exposure budgets (total, region, segment, product) and the queue of increases waiting for room. */
export const budgetRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/budgets",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary: "Exposure budgets with their cap, usage, room and what waits for room",
          tags: ["budgets"],
          response: { 200: z.object({ budgets: z.array(budget) }) },
        },
      },
      async () => ({ budgets: await listBudgets(headroom.store) }),
    );

    app.put(
      "/v1/budgets",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Set a budget's cap (creating it); sealed in the ledger with who and why",
          description:
            "measure limit caps committed credit (limits: increases and new lines spend it); measure balance caps drawn credit (drawdowns spend it).",
          tags: ["budgets"],
          body: z.object({
            scope: z.enum(["total", "region", "segment", "product"]),
            value: z.string().min(1).max(64).optional(),
            measure: z.enum(["limit", "balance"]),
            cap: fen,
            reason: text,
          }),
          response: { 200: budget, 400: problemSchema },
        },
      },
      async (request) =>
        refusing(400, () => setBudget(headroom, { ...request.body, actor: actorOf(request) })),
    );

    app.delete(
      "/v1/budgets/:id",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Remove a budget; sealed in the ledger with who and why",
          tags: ["budgets"],
          params: z.object({ id: z.string().min(1).max(200) }),
          querystring: z.object({ reason: text }),
          response: { 204: z.null(), 400: problemSchema, 404: problemSchema },
        },
      },
      async (request, reply) => {
        await refusing(404, () =>
          removeBudget(headroom, request.params.id, actorOf(request), request.query.reason),
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      "/v1/budgets/queue",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary:
            "The budget queue in priority order: appeal reversals, then plan reopenings (by arrival), then increases (lowest PD first)",
          tags: ["budgets"],
          querystring: z.object({
            status: z.enum(["waiting", "granted", "lapsed"]).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(200),
          }),
          response: { 200: z.object({ entries: z.array(entry) }), 400: problemSchema },
        },
      },
      async (request) => ({
        entries: await budgetQueue(headroom.store, request.query.status, request.query.limit),
      }),
    );

    app.post(
      "/v1/budgets/queue/drain",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Grant what waits and now fits: reversals, then reopenings, then increases by priority",
          tags: ["budgets"],
          response: { 200: z.object({ granted: z.number().int(), lapsed: z.number().int() }) },
        },
      },
      async () => drainBudgetQueue(headroom),
    );
  };
