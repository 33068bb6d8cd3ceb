import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { REGIONS } from "../../engine/events.ts";
import { classMeasuresIn } from "../../services/classMeasures.ts";
import type { Headroom } from "../../services/headroom.ts";
import {
  MAX_FACTOR,
  MIN_FACTOR,
  type RiskMeasure,
  riskSettingHistory,
  setRiskMeasure,
} from "../../services/riskSettings.ts";
import { actorOf } from "../access.ts";
import { problemSchema } from "../problem.ts";

const text = z.string().trim().min(1).max(200);
const factor = z.number().min(MIN_FACTOR).max(MAX_FACTOR);
const applied = z.object({ settingId: z.string(), reviewed: z.number().int(), changed: z.number().int() });

/**
 * Class-wide measures: a region's risk factor and the portfolio stress multiplier. Setting one
 * re-decides the lines it touches at once; the decisions it makes are marked class-wide.
 */
export const riskMeasureRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    const set = async (measure: RiskMeasure, actor: string, reason: string) =>
      setRiskMeasure(headroom, measure, actor, reason);

    app.get(
      "/v1/risk-measures",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary: "The measures in force and every setting, latest first, with who and why",
          tags: ["risk measures"],
          response: {
            200: z.object({
              regions: z.record(z.string(), z.number()),
              stress: z.number(),
              history: z.array(
                z.object({
                  id: z.string(),
                  kind: z.string(),
                  region: z.string().nullable(),
                  factor: z.number(),
                  actor: z.string(),
                  reason: z.string(),
                  at: z.string(),
                }),
              ),
            }),
          },
        },
      },
      async () => {
        const current = await classMeasuresIn(headroom.store.db);
        const history = await riskSettingHistory(headroom.store.db);
        return { ...current, history: history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })) };
      },
    );

    app.put(
      "/v1/risk-measures/regions/:region",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Set a region's risk factor (multiplies target limits there; below 1 tightens)",
          tags: ["risk measures"],
          params: z.object({ region: z.enum(REGIONS) }),
          body: z.object({ factor, reason: text }),
          response: { 200: applied, 400: problemSchema },
        },
      },
      async (request) =>
        set(
          { kind: "region", region: request.params.region, factor: request.body.factor },
          actorOf(request),
          request.body.reason,
        ),
    );

    app.put(
      "/v1/risk-measures/stress",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Set the portfolio stress multiplier (multiplies every target limit; below 1 tightens)",
          tags: ["risk measures"],
          body: z.object({ multiplier: factor, reason: text }),
          response: { 200: applied, 400: problemSchema },
        },
      },
      async (request) =>
        set({ kind: "stress", factor: request.body.multiplier }, actorOf(request), request.body.reason),
    );
  };
