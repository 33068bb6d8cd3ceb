import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { MAX_TERM_MONTHS, REPAYMENT_METHODS } from "../../engine/pricing/schedule.ts";
import { listFees } from "../../services/fees.ts";
import type { Headroom } from "../../services/headroom.ts";
import { listDrawdowns, quoteForAccount, quoteView, scheduleOf } from "../../services/pricing.ts";
import { STAFF } from "../access.ts";
import { notFound, problemSchema } from "../problem.ts";

const accountParams = z.object({ accountId: z.string().min(1).max(128) });
const instalment = z.object({
  number: z.number().int(),
  dueAt: z.string(),
  principal: z.number().int(),
  interest: z.number().int(),
  total: z.number().int(),
  balanceAfter: z.number().int(),
});
const iso = (at: number) => new Date(at).toISOString();
const instalmentView = (i: { dueAt: number } & Omit<z.infer<typeof instalment>, "dueAt">) => ({
  ...i,
  dueAt: iso(i.dueAt),
});

/**
 * Pricing as the borrower sees it: what a drawdown would cost before they draw (rate, why, each
 * instalment, total interest), and what each past drawdown was priced at.
 */
export const pricingRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/accounts/:accountId/drawdown-quote",
      {
        config: { access: { roles: ["analyst"], borrower: "accountId" } },
        schema: {
          summary: "Price a drawdown before it is drawn: rate, its basis and the repayment schedule",
          tags: ["pricing"],
          params: accountParams,
          body: z.object({
            amount: z.number().int().positive().max(20_000_000),
            termMonths: z.number().int().min(1).max(MAX_TERM_MONTHS).default(12),
            repayment: z.enum(REPAYMENT_METHODS).default("equal_instalment"),
          }),
          response: {
            200: z.object({
              accountId: z.string(),
              tier: z.string(),
              annualRateBps: z.number().int(),
              rateBasis: z.array(z.string()),
              /** A higher rate announced on the line: it applies to drawdowns from its date only. */
              announced: z.object({ annualRateBps: z.number().int(), effectiveAt: z.string() }).nullable(),
              effectiveAnnualRate: z.number(),
              totalInterest: z.number().int(),
              totalRepayable: z.number().int(),
              instalments: z.array(instalment),
            }),
            400: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        const quote = await quoteForAccount(headroom, accountId, request.body, headroom.clock());
        if (quote === null) throw notFound(`account ${accountId}`);
        return quoteView(accountId, quote);
      },
    );

    app.get(
      "/v1/accounts/:accountId/drawdowns",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Drawdowns with the rate and schedule each was priced at (newest first)",
          tags: ["pricing"],
          params: accountParams,
          response: {
            200: z.object({
              drawdowns: z.array(
                z.object({
                  id: z.string(),
                  amount: z.number().int(),
                  annualRateBps: z.number().int(),
                  rateBasis: z.array(z.string()),
                  pricingProduct: z.string(),
                  policyVersion: z.string(),
                  repayment: z.string(),
                  termMonths: z.number().int(),
                  totalInterest: z.number().int(),
                  drawnAt: z.string(),
                  instalments: z.array(instalment),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => {
        const rows = await listDrawdowns(headroom.store, request.params.accountId);
        return {
          drawdowns: rows.map((d) => ({
            id: d.id,
            amount: d.amount,
            annualRateBps: d.rate_bps,
            rateBasis: JSON.parse(d.rate_basis) as string[],
            pricingProduct: d.pricing_product,
            policyVersion: d.policy_version,
            repayment: d.repayment,
            termMonths: d.term_months,
            totalInterest: d.total_interest,
            drawnAt: iso(d.drawn_at),
            instalments: scheduleOf(d).instalments.map(instalmentView),
          })),
        };
      },
    );

    app.get(
      "/v1/accounts/:accountId/fees",
      {
        config: { access: { roles: STAFF, borrower: "accountId" } },
        schema: {
          summary: "Fees charged to a line (newest first), each with the cut it results from",
          tags: ["pricing"],
          params: accountParams,
          response: {
            200: z.object({
              fees: z.array(
                z.object({
                  feeId: z.string(),
                  kind: z.string(),
                  amount: z.number().int(),
                  causeDecisionId: z.string().nullable(),
                  chargedAt: z.string(),
                }),
              ),
            }),
            400: problemSchema,
          },
        },
      },
      async (request) => ({
        fees: (await listFees(headroom.store, request.params.accountId)).map((f) => ({
          feeId: f.id,
          kind: f.kind,
          amount: f.amount,
          causeDecisionId: f.cause_decision_id,
          chargedAt: iso(f.charged_at),
        })),
      }),
    );
  };
