import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { REGIONS, SEGMENTS } from "../../engine/events.ts";
import type { Headroom } from "../../services/headroom.ts";
import { filterHits, hitsCsv, type SimulationReport } from "../../services/simulation.ts";
import {
  candidateEngine,
  newSimulationId,
  runSimulation,
  SimulationRequestError,
  simulationJob,
} from "../../services/simulationRun.ts";
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
  worstDpdAfter: z.number().int().nullable(),
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

    const storedReport = async (id: string): Promise<SimulationReport | null> => {
      const row = await headroom.store.db
        .selectFrom("simulation_reports")
        .select("report")
        .where("id", "=", id)
        .executeTakeFirst();
      return row === undefined ? null : (JSON.parse(row.report) as SimulationReport);
    };

    app.post(
      "/v1/simulations",
      {
        schema: {
          summary:
            "Start a simulation of a candidate policy version and/or model version over the book, or over the history replayed as of a past date",
          tags: ["simulations"],
          body: z.object({
            policy: z.string().min(1).max(64).optional(),
            model: z.string().min(1).max(64).optional(),
            asOf: z.iso.datetime().optional(),
            by: z.string().min(1).max(128),
          }),
          response: {
            202: z.object({ id: z.string(), job: z.string() }),
            400: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { policy, model, by } = request.body;
        const asOf = request.body.asOf === undefined ? undefined : Date.parse(request.body.asOf);
        if (policy === undefined && model === undefined)
          throw new ProblemError(
            422,
            "Invalid simulation",
            "/body/policy: name a candidate policy and/or model",
          );
        const now = headroom.clock();
        if (asOf !== undefined && asOf > now)
          throw new ProblemError(422, "Invalid simulation", "/body/asOf: must not be in the future");
        try {
          await candidateEngine(headroom, { policy, model }, false);
        } catch (error) {
          if (error instanceof SimulationRequestError)
            throw new ProblemError(422, "Invalid simulation", `/body/${error.field}: ${error.message}`);
          throw error;
        }
        const id = newSimulationId(
          policy ?? headroom.engine.policy.version,
          model ?? headroom.engine.model.version,
          now,
        );
        running.add(id);
        runSimulation(headroom, { policy, model, asOf, by }, { id })
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
        schema: {
          summary: "A stored simulation report (202 while it runs)",
          tags: ["simulations"],
          params: idParams,
          response: {
            200: z.object({ id: z.string(), report: z.record(z.string(), z.unknown()) }),
            202: z.object({ id: z.string(), status: z.literal("running") }),
            404: problemSchema,
            500: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const report = await storedReport(id);
        if (report !== null) return { id, report: { ...report } };
        if (running.has(id)) return reply.code(202).send({ id, status: "running" as const });
        const why = failed.get(id);
        if (why !== undefined) throw new ProblemError(500, "Simulation failed", why);
        throw notFound(`simulation ${id}`);
      },
    );

    app.get(
      "/v1/simulations/:id/hits",
      {
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
        const report = await storedReport(request.params.id);
        if (report === null) throw notFound(`simulation ${request.params.id}`);
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
