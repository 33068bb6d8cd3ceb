import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { lintPolicy } from "../../engine/policy/lint.ts";
import type { Headroom } from "../../services/headroom.ts";
import {
  activatePolicy,
  approvePolicyVersion,
  compareArms,
  currentDeployment,
  diffPolicyVersions,
  importPolicyVersion,
  listPolicyVersions,
  PolicyVersionError,
  reloadEngine,
  rollbackPolicy,
} from "../../services/policyVersions.ts";
import { actorOf, STAFF } from "../access.ts";
import { ProblemError, problemSchema } from "../problem.ts";

const STATUS = {
  invalid: [422, "Invalid policy"],
  not_found: [404, "Not Found"],
  conflict: [409, "Conflict"],
  forbidden: [403, "Forbidden"],
  needs_simulation: [409, "Simulation required"],
} as const;

/** Runs a lifecycle step, turning its refusals into problem+json. */
async function lifecycle<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof PolicyVersionError) {
      const [status, title] = STATUS[error.kind];
      throw new ProblemError(status, title, error.message);
    }
    throw error;
  }
}

const version = z.string().min(1).max(64);
const versionView = z.object({
  version: z.string(),
  author: z.string(),
  status: z.string(),
  createdAt: z.number(),
  approvedBy: z.string().nullable(),
});
const deployment = z.object({
  champion: z.string(),
  challenger: z.string().nullable(),
  challengerShare: z.number(),
  shadows: z.array(z.string()),
  activatedBy: z.string(),
  activatedAt: z.number(),
});
const refusals = {
  400: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
};

export const policyRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    /** A new deployment takes effect in this process at once; other processes pick it up on start. */
    const reload = () => reloadEngine(headroom.store, headroom.engine);

    app.get(
      "/v1/policies",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Policy versions and the deployment in force",
          tags: ["policies"],
          response: { 200: z.object({ versions: z.array(versionView), deployment: deployment.nullable() }) },
        },
      },
      async () => ({
        versions: await listPolicyVersions(headroom.store),
        deployment: await currentDeployment(headroom.store),
      }),
    );

    app.post(
      "/v1/policies/check",
      {
        config: { access: { roles: ["analyst", "approver"] } },
        schema: {
          summary: "Validate a policy document and find tier gaps, overlaps and unreachable rules",
          tags: ["policies"],
          body: z.object({ yaml: z.string().max(1_000_000) }),
          response: {
            200: z.object({
              ok: z.boolean(),
              problems: z.array(
                z.object({ path: z.string(), line: z.number(), column: z.number(), message: z.string() }),
              ),
              findings: z.array(
                z.object({
                  kind: z.string(),
                  rows: z.array(z.string()),
                  paths: z.array(z.string()),
                  lines: z.array(z.number()),
                  message: z.string(),
                }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const lint = lintPolicy(request.body.yaml);
        return {
          ok: lint.policy !== null && lint.findings.length === 0,
          problems: lint.problems,
          findings: lint.findings.map(({ kind, rows, paths, lines, message }) => ({
            kind,
            rows,
            paths,
            lines,
            message,
          })),
        };
      },
    );

    app.post(
      "/v1/policies",
      {
        config: { access: { roles: ["analyst"] } },
        schema: {
          summary: "Import a policy version as a draft (checked on save)",
          tags: ["policies"],
          body: z.object({ yaml: z.string().max(1_000_000) }),
          response: { 201: versionView, ...refusals },
        },
      },
      async (request, reply) => {
        const view = await lifecycle(() =>
          importPolicyVersion(headroom.store, request.body.yaml, actorOf(request), headroom.clock()),
        );
        return reply.code(201).send(view);
      },
    );

    app.post(
      "/v1/policies/:version/approve",
      {
        config: { access: { roles: ["approver"] } },
        schema: {
          summary: "Approve a draft version (maker-checker: the principal who imported it cannot approve)",
          tags: ["policies"],
          params: z.object({ version }),
          response: { 200: versionView, ...refusals },
        },
      },
      async (request) =>
        lifecycle(() =>
          approvePolicyVersion(headroom.store, request.params.version, actorOf(request), headroom.clock()),
        ),
    );

    app.post(
      "/v1/policies/activate",
      {
        config: { access: { roles: ["approver"] } },
        schema: {
          summary: "Put approved versions in force: champion, optional challenger share, shadows",
          tags: ["policies"],
          body: z.object({
            champion: version,
            challenger: version.nullable().optional(),
            challengerShare: z.number().min(0).max(1).optional(),
            shadows: z.array(version).max(8).optional(),
          }),
          response: { 200: deployment, ...refusals },
        },
      },
      async (request) => {
        const result = await lifecycle(() =>
          activatePolicy(headroom.store, request.body, actorOf(request), headroom.clock()),
        );
        await reload();
        return result;
      },
    );

    app.post(
      "/v1/policies/rollback",
      {
        config: { access: { roles: ["approver"] } },
        schema: {
          summary: "Put the previous deployment back in force",
          tags: ["policies"],
          response: { 200: deployment, ...refusals },
        },
      },
      async (request) => {
        const result = await lifecycle(() =>
          rollbackPolicy(headroom.store, actorOf(request), headroom.clock()),
        );
        await reload();
        return result;
      },
    );

    app.get(
      "/v1/policies/diff",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Rules changed between two versions and the accounts of the current book that would move",
          tags: ["policies"],
          querystring: z.object({ from: version, to: version }),
          response: { 200: z.record(z.string(), z.unknown()), ...refusals },
        },
      },
      async (request) =>
        lifecycle(async () => ({
          ...(await diffPolicyVersions(
            headroom.store,
            request.query.from,
            request.query.to,
            headroom.clock(),
          )),
        })),
    );

    app.get(
      "/v1/policies/report",
      {
        config: { access: { roles: STAFF } },
        schema: {
          summary: "Compare the arms: decisions per policy version, acted on and shadow",
          tags: ["policies"],
          response: {
            200: z.object({
              arms: z.array(
                z.object({
                  policyVersion: z.string(),
                  arm: z.enum(["acted", "shadow"]),
                  decisions: z.number(),
                  adverse: z.number(),
                  byAction: z.record(z.string(), z.number()),
                  limitChange: z.number(),
                  byMeasures: z
                    .number()
                    .describe(
                      "Decisions the class-wide measures made: without them, not taken or not as far",
                    ),
                }),
              ),
            }),
          },
        },
      },
      async () => ({ arms: await compareArms(headroom.store) }),
    );
  };
