import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Headroom } from "../../services/headroom.ts";
import { hitsCsv, MAX_HIT_LIST } from "../../services/simulation.ts";
import {
  CandidateRejected,
  championYaml,
  getSimulation,
  runSimulation,
  type StoredSimulation,
} from "../../services/simulationRuns.ts";
import { notFound, ProblemError, problemSchema } from "../problem.ts";

const group = z.object({
  accounts: z.number().int(),
  exposureNow: z.number().int(),
  exposureCurrent: z.number().int(),
  exposureCandidate: z.number().int(),
});
const versions = z.object({ policy: z.string(), model: z.string() });
const simulationView = z.object({
  id: z.string(),
  asOf: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Rows of the who-is-hit list in the whole report; `report.hits` holds the first `hits` of them. */
  hitCount: z.number().int(),
  report: z.object({
    candidate: versions,
    current: versions,
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
    hits: z.array(
      z.object({
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
      }),
    ),
    hitsTruncated: z.boolean(),
  }),
});
export type SimulationView = z.infer<typeof simulationView>;

const hitsQuery = z.object({
  hits: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_HIT_LIST)
    .default(1000)
    .describe("rows of the hit list to include"),
});
const simulationId = z.object({ simulationId: z.string().min(1).max(200) });

const withHits = (s: StoredSimulation, hits: number): SimulationView => ({
  ...s,
  hitCount: s.report.hits.length,
  report: { ...s.report, hits: s.report.hits.slice(0, hits) },
});

async function stored(headroom: Headroom, id: string): Promise<StoredSimulation> {
  const simulation = await getSimulation(headroom.store, id);
  if (simulation === null) throw notFound(`simulation ${id}`);
  return simulation;
}

/**
 * An analyst's what-if: a candidate policy decided over the open book beside the one in force,
 * nothing applied. The report is kept, and its who-is-hit list can be downloaded as CSV.
 */
export const simulationRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/simulations/baseline",
      {
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
        schema: {
          summary:
            "Decide the open book under a candidate policy (YAML) beside the one in force; changes nothing",
          tags: ["simulations"],
          querystring: hitsQuery,
          body: z.object({
            yaml: z.string().min(1).max(1_000_000).describe("the candidate policy document"),
            by: z.string().min(1).max(128).describe("who runs it"),
          }),
          response: { 201: simulationView, 400: problemSchema, 422: problemSchema },
        },
      },
      async (request, reply) => {
        let run: Awaited<ReturnType<typeof runSimulation>>;
        try {
          run = await runSimulation(headroom, request.body.yaml, request.body.by);
        } catch (error) {
          if (error instanceof CandidateRejected)
            throw new ProblemError(422, "Invalid policy", `/body/${error.messages.join("; /body/")}`);
          throw error;
        }
        const simulation = await stored(headroom, run.id);
        return reply.status(201).send(withHits(simulation, request.query.hits));
      },
    );

    app.get(
      "/v1/simulations/:simulationId",
      {
        schema: {
          summary: "A kept simulation report",
          tags: ["simulations"],
          params: simulationId,
          querystring: hitsQuery,
          response: { 200: simulationView, 400: problemSchema, 404: problemSchema },
        },
      },
      async (request) => withHits(await stored(headroom, request.params.simulationId), request.query.hits),
    );

    app.get(
      "/v1/simulations/:simulationId/hits.csv",
      {
        schema: {
          summary: "The whole who-is-hit list of a simulation as CSV",
          tags: ["simulations"],
          params: simulationId,
          response: { 200: z.string(), 404: problemSchema },
        },
      },
      async (request, reply) => {
        const simulation = await stored(headroom, request.params.simulationId);
        return reply
          .type("text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="${simulation.id}-hits.csv"`)
          .send(hitsCsv(simulation.report));
      },
    );
  };
