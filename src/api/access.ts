import type { FastifyInstance, FastifyRequest } from "fastify";
import { authenticate, ownerOf, type Principal, type Role, SESSION_COOKIE } from "../services/access.ts";
import { type ApiAction, apiActionRow } from "../services/actionLog.ts";
import type { Headroom } from "../services/headroom.ts";
import type { ApiActionTable } from "../store/schema.ts";
import { ProblemError } from "./problem.ts";

/**
 * Access is declared on each route, next to its schema, and checked in one onRequest hook:
 *
 *   config: { access: "public" }                                   anyone, no credentials
 *   config: { access: "authenticated" }                            any principal (who am I, log out)
 *   config: { access: { roles: ["analyst", "auditor"] } }          these staff roles (admin always)
 *   config: { access: { roles: ["reviewer"], borrower: "accountId" } }
 *       ...and a borrower, but only on their own object named by that path parameter
 *
 * A route without a rule is refused for everyone (fail closed), and the authorization-matrix test
 * names it. Admin may call every non-public route; a borrower only routes that name `borrower`.
 */
export type OwnedParam = "borrowerId" | "accountId" | "decisionId" | "appealId";
export type StaffRole = Exclude<Role, "borrower" | "admin">;
export type AccessRule = "public" | "authenticated" | { roles: readonly StaffRole[]; borrower?: OwnedParam };

declare module "fastify" {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyInstance {
    /** Every route's declared rule, by "METHOD /path", for the authorization-matrix test. */
    accessRules: Map<string, AccessRule | undefined>;
  }
  interface FastifyRequest {
    /** Who is calling; null on public routes and when no credentials were given. */
    principal: Principal | null;
  }
}

/** Common role sets, so rules read as intent. */
export const STAFF: readonly StaffRole[] = ["analyst", "reviewer", "approver", "auditor"];

export const unauthenticated = () =>
  new ProblemError(401, "Unauthorized", "send an API key (Authorization: Bearer hrk_...) or log in");
const forbidden = (principal: Principal) =>
  new ProblemError(403, "Forbidden", `role ${principal.role} may not call this route`);

/** The console session token from the request's cookie, if any. */
export function sessionToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * Who is acting, as the records a route writes name them (author, approver, reviewer, actor): the
 * authenticated principal, never a name the client sends. Only for routes that are not public.
 */
export function actorOf(request: FastifyRequest): string {
  if (request.principal === null) throw unauthenticated();
  return request.principal.id;
}

const sealedWithEffects = new WeakSet<FastifyRequest>();

/**
 * The record of this request's write, for a route that commits it in the same transaction as the
 * write itself (the event intake) rather than after; the hook then records nothing more.
 */
export function actionSealedWithEffects(request: FastifyRequest, clock: () => number): ApiActionTable {
  if (request.principal === null) throw unauthenticated();
  sealedWithEffects.add(request);
  return apiActionRow(request.principal, requestAction(request, SUCCESS), clock());
}
const SUCCESS = 200;

const requestAction = (request: FastifyRequest, status: number): ApiAction => ({
  method: request.method,
  route: request.routeOptions.url ?? request.url,
  params: request.params as Record<string, string>,
  status,
});

/** The credentials a request carries: a bearer API key wins over a session cookie. */
export async function principalOf(headroom: Headroom, request: FastifyRequest): Promise<Principal | null> {
  const auth = request.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer "))
    return authenticate(headroom.store, { apiKey: auth.slice(7).trim() }, headroom.clock());
  const token = sessionToken(request);
  if (token !== undefined) return authenticate(headroom.store, { sessionToken: token }, headroom.clock());
  return null;
}

/** Whether a principal may call a route with these path parameters; throws the problem if not. */
async function check(
  headroom: Headroom,
  rule: AccessRule | undefined,
  principal: Principal | null,
  params: Record<string, string>,
): Promise<void> {
  if (rule === "public") return;
  if (principal === null) throw unauthenticated();
  if (rule === undefined) throw new ProblemError(403, "Forbidden", "this route has no access rule");
  if (rule === "authenticated" || principal.role === "admin") return;
  if (principal.role === "borrower") {
    const param = rule.borrower;
    if (param === undefined) throw forbidden(principal);
    const id = params[param];
    const owner = id === undefined ? null : await ownerOf(headroom.store, param, id);
    // Another borrower's object answers exactly as a missing one, so ids cannot be probed.
    if (owner === null || owner !== principal.borrowerId)
      throw new ProblemError(404, "Not Found", `${param.replace(/Id$/, "")} ${id ?? ""} does not exist`);
    return;
  }
  if (!rule.roles.includes(principal.role)) throw forbidden(principal);
}

/** Installs the one access hook. Routes are checked after routing, before their body is parsed. */
export function installAccessControl(app: FastifyInstance, headroom: Headroom): void {
  app.decorateRequest("principal", null);
  app.decorate("accessRules", new Map<string, AccessRule | undefined>());
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat())
      app.accessRules.set(`${method} ${route.url}`, route.config?.access);
  });
  app.addHook("onRequest", async (request) => {
    // Unmatched URLs go to the not-found handler, which reveals nothing.
    if (request.routeOptions.url === undefined) return;
    const rule = request.routeOptions.config.access;
    if (rule === "public") return;
    request.principal = await principalOf(headroom, request);
    await check(headroom, rule, request.principal, request.params as Record<string, string>);
  });
  // Every successful write by a principal is sealed in the ledger before the answer leaves.
  app.addHook("onSend", async (request, reply, payload) => {
    const principal = request.principal;
    if (
      principal === null ||
      request.method === "GET" ||
      request.method === "HEAD" ||
      reply.statusCode >= 400 ||
      sealedWithEffects.has(request)
    )
      return payload;
    await headroom.actions.record(principal, requestAction(request, reply.statusCode));
    return payload;
  });
}
