import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";

/** RFC 9457 problem details: every error the API returns has this shape. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
  })
  .meta({ id: "Problem" });

export type Problem = z.infer<typeof problemSchema>;

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new ProblemError(404, "Not Found", `${what} does not exist`);

const PROBLEM_TYPE = "https://headroom.dev/problems/";

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/**
 * Errors Fastify raises before a route runs (URL too long, bad URL encoding, bad content type
 * parsing) skip the error handler; Fastify's `frameworkErrors` option sends them here instead.
 */
export function frameworkErrorAsProblem(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status =
    typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500
      ? error.statusCode
      : 400;
  const problem: Problem = {
    type: `${PROBLEM_TYPE}${slug(error.code ?? "client-error")}`,
    title: status === 414 ? "URI too long" : "Bad request",
    status,
    detail: error.message.slice(0, 500),
    instance: request.url.slice(0, 500),
  };
  reply.status(status).type("application/problem+json").send(JSON.stringify(problem));
}

/** Installs the handlers that turn every failure into problem+json; 5xx details stay in the log. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let problem: Problem;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? "body";
      const errors = error.validation.map((v) => ({
        pointer: `/${where}${v.instancePath}`.replace(/\/$/, ""),
        detail: v.message ?? "is invalid",
      }));
      problem = {
        type: `${PROBLEM_TYPE}validation`,
        title: "Invalid request",
        status: 400,
        detail: errors
          .map((e) => `${e.pointer}: ${e.detail}`)
          .join("; ")
          .slice(0, 2000),
        errors: errors.slice(0, 100),
      };
    } else if (error instanceof ProblemError) {
      problem = {
        type: `${PROBLEM_TYPE}${slug(error.title)}`,
        title: error.title,
        status: error.status,
        detail: error.message,
      };
    } else if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      problem = {
        type: `${PROBLEM_TYPE}${slug(error.code ?? "client-error")}`,
        title: error.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "Payload too large" : "Bad request",
        status: error.statusCode,
        detail: error.message,
      };
    } else {
      request.log.error({ err: error }, "request failed");
      problem = {
        type: `${PROBLEM_TYPE}internal`,
        title: "Internal error",
        status: 500,
        detail: "The server could not complete the request; nothing was committed.",
      };
    }
    problem.instance = request.url.slice(0, 500);
    return reply.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
  });
  app.setNotFoundHandler((request, reply) => {
    const problem: Problem = {
      type: `${PROBLEM_TYPE}not-found`,
      title: "Not Found",
      status: 404,
      detail: `no route ${request.method} ${request.url.slice(0, 200)}`,
      instance: request.url.slice(0, 500),
    };
    return reply.status(404).type("application/problem+json").send(JSON.stringify(problem));
  });
}
