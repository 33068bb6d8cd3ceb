import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { REGIONS, SEGMENTS } from "../../engine/events.ts";
import type { WhatIfMeasures } from "../../services/classMeasures.ts";
import type { Headroom } from "../../services/headroom.ts";
import { MAX_FACTOR, MIN_FACTOR } from "../../services/riskSettings.ts";
import { filterHits, hitsCsv, MAX_HIT_LIST } from "../../services/simulation.ts";
import {
  candidateEngine,
  championYaml,
  getSimulation,
  newSimulationId,
  runSimulation,
  SimulationRequestError,
  type StoredSimulation,
  simulationJob,
} from "../../services/simulationRun.ts";
import { actorOf } from "../access.ts";
import { notFound, ProblemError, problemSchema } from "../problem.ts";

const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9._:-]{1,160}$/) });
const hitSchema = z.object({
  accountId: z.string(),
  region: z.string(),
  segment: z.string(),
  currentAction: z.string(),
  candidateAction: z.string(),
  fromLimit: z.number().int(),
  currentLimit: z.number().int(),
  candidateLimit: z.number().int(),
  candidateRule: z.string().nullable(),
  pd: z.number(),
  currentClassWide: z.boolean(),
  candidateClassWide: z.boolean(),
  worstDpdAfter: z.number().int().nullable(),
});
const group = z.object({
  accounts: z.number().int(),
  exposureNow: z.number().int(),
  exposureCurrent: z.number().int(),
  exposureCandidate: z.number().int(),
});
const factor = z.number().min(MIN_FACTOR).max(MAX_FACTOR);
const measures = z.object({ regions: z.record(z.string(), z.number()), stress: z.number() });
const byDpd = z.object({ dpd30: z.number().int(), dpd60: z.number().int() });
const simulationView = z.object({
  id: z.string(),
  asOf: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Rows of the who-is-hit list in the whole report; `report.hits` holds the first `?hits=` of them. */
  hitCount: z.number().int(),
  report: z.object({
    mode: z.enum(["book", "replay"]),
    asOf: z.number().int(),
    candidate: z.object({ policy: z.string(), model: z.string(), policyHash: z.string() }),
    current: z.object({ policy: z.string(), model: z.string() }),
    measures: z.object({ current: measures, candidate: measures }),
    whatIf: z
      .object({ stress: z.number().optional(), regions: z.record(z.string(), z.number()).optional() })
      .nullable(),
    classWide: z.object({ current: z.number().int(), candidate: z.number().int() }),
    accounts: z.number().int(),
    actions: z.record(z.string(), z.object({ current: z.number().int(), candidate: z.number().int() })),
    exposure: z.object({
      total: group,
      byRegion: z.record(z.string(), group),
      bySegment: z.record(z.string(), group),
      byTier: z.record(z.string(), group),
    }),
    expectedLoss: z.object({ current: z.number().int(), candidate: z.number().int() }),
    adverseImpact: z.record(z.string(), z.object({ adverseRate: z.number(), ratioToLowest: z.number() })),
    scorePsi: z.number(),
    hits: z.array(hitSchema),
    hitsTruncated: z.boolean(),
    outcomes: z
      .object({
        observedUntil: z.number().int(),
        bad: byDpd,
        cuts: z.object({ current: z.number().int(), candidate: z.number().int() }),
        wrongfulCuts: z.object({ current: byDpd, candidate: byDpd }),
      })
      .nullable(),
  }),
});
const hitsShown = z.object({
  hits: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_HIT_LIST)
    .default(1000)
    .describe("rows of the who-is-hit list to include"),
});

const withHits = (s: StoredSimulation, hits: number) => ({
  ...s,
  hitCount: s.report.hits.length,
  report: { ...s.report, hits: s.report.hits.slice(0, hits) },
});

/**
 * Simulations as jobs: POST starts one (progress on /v1/jobs as `simulation:<id>`), GET reads the
 * stored report, its who-is-hit list filtered, as JSON or CSV.
 */
export const simulationRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    // Failures of background runs in this process, so a poll can say why a report never came.
    const failed = new Map<string, string>();
    const running = new Set<string>();

    app.get(
      "/v1/simulations/baseline",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary: "The policy in force as YAML: the starting point of a candidate",
          tags: ["simulations"],
          response: { 200: z.object({ version: z.string(), yaml: z.string() }) },
        },
      },
      async () => championYaml(headroom.store),
    );

    app.post(
      "/v1/simulations",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary:
            "Start a simulation of a candidate policy version and/or model version over the book, or over the history replayed as of a past date; both sides decide under the class-wide measures in force, the candidate also under any what-if measures",
          tags: ["simulations"],
          body: z.object({
            policy: z.string().min(1).max(64).optional().describe("a stored policy version"),
            yaml: z.string().min(1).max(1_000_000).optional().describe("or a candidate policy document"),
            model: z.string().min(1).max(64).optional(),
            asOf: z.iso.datetime().optional(),
            stress: factor
              .optional()
              .describe("what-if: the candidate runs as if this portfolio stress multiplier were set"),
            regionFactors: z
              .partialRecord(z.enum(REGIONS), factor)
              .optional()
              .describe("what-if: the candidate runs as if these region risk factors were set"),
          }),
          response: {
            202: z.object({ id: z.string(), job: z.string() }),
            400: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { policy, yaml, model, stress, regionFactors } = request.body;
        const whatIf: WhatIfMeasures | undefined =
          stress === undefined && regionFactors === undefined
            ? undefined
            : {
                ...(stress === undefined ? {} : { stress }),
                ...(regionFactors === undefined ? {} : { regions: regionFactors as Record<string, number> }),
              };
        const by = actorOf(request);
        const asOf = request.body.asOf === undefined ? undefined : Date.parse(request.body.asOf);
        if (policy === undefined && yaml === undefined && model === undefined && whatIf === undefined)
          throw new ProblemError(
            422,
            "Invalid simulation",
            "/body/policy: name a candidate policy (or send its document as yaml), model and/or what-if measures (stress, regionFactors)",
          );
        const now = headroom.clock();
        if (asOf !== undefined && asOf > now)
          throw new ProblemError(422, "Invalid simulation", "/body/asOf: must not be in the future");
        let candidate: Awaited<ReturnType<typeof candidateEngine>>;
        try {
          candidate = await candidateEngine(headroom, { policy, yaml, model }, false);
        } catch (error) {
          if (error instanceof SimulationRequestError)
            throw new ProblemError(
              422,
              "Invalid simulation",
              error.problems.length > 0
                ? error.problems.map((p) => `/body/${p}`).join("; ")
                : `/body/${error.field}: ${error.message}`,
            );
          throw error;
        }
        const id = newSimulationId(candidate.policy.version, candidate.model.version, now);
        running.add(id);
        runSimulation(headroom, { policy, yaml, model, asOf, whatIf, by }, { id, candidate })
          .catch((error: unknown) => {
            request.log.error({ err: error, simulation: id }, "simulation failed");
            failed.set(id, error instanceof Error ? error.message : String(error));
          })
          .finally(() => running.delete(id));
        return reply.code(202).send({ id, job: simulationJob(id) });
      },
    );

    app.get(
      "/v1/simulations/:id",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary: "A stored simulation report (202 while it runs)",
          tags: ["simulations"],
          params: idParams,
          querystring: hitsShown,
          response: {
            200: simulationView,
            202: z.object({ id: z.string(), status: z.literal("running") }),
            404: problemSchema,
            500: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const simulation = await getSimulation(headroom.store, id);
        if (simulation !== null) return withHits(simulation, request.query.hits);
        if (running.has(id)) return reply.code(202).send({ id, status: "running" as const });
        const why = failed.get(id);
        if (why !== undefined) throw new ProblemError(500, "Simulation failed", why);
        throw notFound(`simulation ${id}`);
      },
    );

    app.get(
      "/v1/simulations/:id/hits",
      {
        config: { access: { roles: ["analyst", "approver", "auditor"] } },
        schema: {
          summary:
            "Who the candidate would hit, filtered by region, segment and candidate action; JSON or CSV",
          tags: ["simulations"],
          params: idParams,
          querystring: z.object({
            region: z.enum(REGIONS).optional(),
            segment: z.enum(SEGMENTS).optional(),
            action: z.enum(["none", "increase", "decrease", "freeze", "close", "reopen"]).optional(),
            format: z.enum(["json", "csv"]).default("json"),
          }),
          response: {
            200: z.union([z.object({ hits: z.array(hitSchema), truncated: z.boolean() }), z.string()]),
            400: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const report = (await getSimulation(headroom.store, request.params.id))?.report;
        if (report === undefined) throw notFound(`simulation ${request.params.id}`);
        const { format, ...filter } = request.query;
        const hits = filterHits(report.hits, filter);
        if (format === "csv") {
          return reply
            .header("content-type", "text/csv; charset=utf-8")
            .header("content-disposition", `attachment; filename="${request.params.id}-hits.csv"`)
            .send(hitsCsv(hits));
        }
        return { hits, truncated: report.hitsTruncated };
      },
    );
  };
