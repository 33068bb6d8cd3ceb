import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  AccessRefused,
  accountsOf,
  createApiKey,
  listApiKeys,
  login,
  logout,
  type Principal,
  ROLES,
  revokeApiKey,
  SESSION_COOKIE,
  upsertUser,
} from "../../services/access.ts";
import type { Headroom } from "../../services/headroom.ts";
import { sessionToken, unauthenticated } from "../access.ts";
import { notFound, ProblemError, problemSchema } from "../problem.ts";

const principalView = z.object({
  principal: z.string(),
  role: z.enum(ROLES),
  borrowerId: z.string().nullable(),
  accounts: z.array(z.string()),
});
const borrowerId = z.string().min(1).max(128);
/** These bodies are a few short fields; anything larger is refused before it is parsed. */
const SMALL_BODY = 4096;

function refusedAsProblem(error: unknown): never {
  if (error instanceof AccessRefused)
    throw new ProblemError(422, "Unprocessable request", `/body/borrowerId: ${error.message}`);
  throw error;
}

/** Console sign-in (a session cookie), who am I, and the admin's API keys and users. */
export const sessionRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    const viewOf = async (principal: Principal): Promise<z.infer<typeof principalView>> => ({
      principal: principal.id,
      role: principal.role,
      borrowerId: principal.borrowerId,
      accounts: principal.borrowerId === null ? [] : await accountsOf(headroom.store, principal.borrowerId),
    });

    app.post(
      "/v1/session",
      {
        bodyLimit: SMALL_BODY,
        config: { access: "public", sensitive: true },
        schema: {
          summary: "Log in to the console: sets an HttpOnly session cookie",
          tags: ["access"],
          body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
          response: { 200: principalView, 400: problemSchema, 401: problemSchema },
        },
      },
      async (request, reply) => {
        const session = await login(
          headroom.store,
          request.body.username,
          request.body.password,
          headroom.clock(),
        );
        if (session === null) throw new ProblemError(401, "Unauthorized", "unknown user or wrong password");
        const maxAge = Math.floor((session.expiresAt - headroom.clock()) / 1000);
        reply.header(
          "set-cookie",
          `${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`,
        );
        return viewOf(session.principal);
      },
    );

    app.get(
      "/v1/session",
      {
        config: { access: "authenticated" },
        schema: {
          summary: "Who is calling: principal, role and, for a borrower, their accounts",
          tags: ["access"],
          response: { 200: principalView, 401: problemSchema },
        },
      },
      async (request) => {
        if (request.principal === null) throw unauthenticated();
        return viewOf(request.principal);
      },
    );

    app.delete(
      "/v1/session",
      {
        config: { access: "authenticated" },
        schema: { summary: "Log out", tags: ["access"], response: { 204: z.null(), 401: problemSchema } },
      },
      async (request, reply) => {
        const token = sessionToken(request);
        if (token !== undefined) await logout(headroom.store, token);
        reply.header("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
        return reply.status(204).send(null);
      },
    );

    app.post(
      "/v1/api-keys",
      {
        bodyLimit: SMALL_BODY,
        config: { access: { roles: [] } },
        schema: {
          summary: "Create an API key (admin); the secret is returned once and stored only hashed",
          tags: ["access"],
          body: z.object({
            name: z.string().min(1).max(64),
            role: z.enum(ROLES),
            borrowerId: borrowerId.optional(),
          }),
          response: {
            201: z.object({ keyId: z.string(), secret: z.string() }),
            400: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const key = await createApiKey(headroom.store, request.body, headroom.clock()).catch(
          refusedAsProblem,
        );
        return reply.status(201).send(key);
      },
    );

    app.get(
      "/v1/api-keys",
      {
        config: { access: { roles: [] } },
        schema: {
          summary: "API keys (admin): names, roles, revoked or not; never the secrets",
          tags: ["access"],
          response: {
            200: z.object({
              keys: z.array(
                z.object({
                  keyId: z.string(),
                  name: z.string(),
                  role: z.string(),
                  borrowerId: z.string().nullable(),
                  createdAt: z.string(),
                  revoked: z.boolean(),
                }),
              ),
            }),
          },
        },
      },
      async () => ({ keys: await listApiKeys(headroom.store) }),
    );

    app.delete(
      "/v1/api-keys/:keyId",
      {
        config: { access: { roles: [] } },
        schema: {
          summary: "Revoke an API key (admin)",
          tags: ["access"],
          params: z.object({ keyId: z.string().min(1).max(64) }),
          response: { 204: z.null(), 404: problemSchema },
        },
      },
      async (request, reply) => {
        if (!(await revokeApiKey(headroom.store, request.params.keyId, headroom.clock())))
          throw notFound(`active API key ${request.params.keyId}`);
        return reply.status(204).send(null);
      },
    );

    app.put(
      "/v1/users/:username",
      {
        bodyLimit: SMALL_BODY,
        config: { access: { roles: [] } },
        schema: {
          summary: "Add a console user or reset their password and role (admin)",
          tags: ["access"],
          params: z.object({ username: z.string().regex(/^[a-z0-9_.-]{1,64}$/) }),
          body: z.object({
            password: z.string().min(12).max(256),
            role: z.enum(ROLES),
            borrowerId: borrowerId.optional(),
          }),
          response: { 204: z.null(), 400: problemSchema, 422: problemSchema },
        },
      },
      async (request, reply) => {
        await upsertUser(
          headroom.store,
          { username: request.params.username, ...request.body },
          headroom.clock(),
        ).catch(refusedAsProblem);
        return reply.status(204).send(null);
      },
    );
  };
