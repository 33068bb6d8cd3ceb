import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ownerOf } from "../services/access.ts";
import type { Headroom } from "../services/headroom.ts";
import { ProblemError } from "./problem.ts";

/**
 * Sensitive flows (appeals, asking for a new decision, logging in) are limited twice: per caller
 * (API key or user) and per borrower whose object the route names, so neither one leaked key nor
 * many keys can flood one borrower's case. A route opts in with `config: { sensitive: true }`.
 */
export interface RateLimitSettings {
  perCaller: number;
  perBorrower: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perCaller: 30, perBorrower: 10, windowMs: 60_000 };

const MAX_PER_MINUTE = 1_000_000;

/**
 * The limits an operator set: `HEADROOM_RATE_LIMIT_PER_CALLER` and `..._PER_BORROWER`, each a
 * number of sensitive requests per minute; unset ones keep their default.
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  const perMinute = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_PER_MINUTE)
      throw new Error(
        `${name} must be a whole number of requests per minute from 1 to ${MAX_PER_MINUTE}, not "${text}"`,
      );
    return value;
  };
  return {
    perCaller: perMinute("HEADROOM_RATE_LIMIT_PER_CALLER", DEFAULT_RATE_LIMITS.perCaller),
    perBorrower: perMinute("HEADROOM_RATE_LIMIT_PER_BORROWER", DEFAULT_RATE_LIMITS.perBorrower),
    windowMs: DEFAULT_RATE_LIMITS.windowMs,
  };
}

declare module "fastify" {
  interface FastifyContextConfig {
    sensitive?: boolean;
  }
}

const OWNED = ["borrowerId", "accountId", "decisionId", "appealId"] as const;

type Limiter = ReturnType<FastifyInstance["createRateLimit"]>;

async function enforce(
  limiter: Limiter,
  request: FastifyRequest,
  reply: FastifyReply,
  what: string,
): Promise<void> {
  const result = await limiter(request);
  if (result.isAllowed || !result.isExceeded) return;
  reply.header("retry-after", result.ttlInSeconds);
  throw new ProblemError(429, "Too many requests", `${what}: try again in ${result.ttlInSeconds} s`);
}

export async function installRateLimits(
  app: FastifyInstance,
  headroom: Headroom,
  settings: RateLimitSettings = DEFAULT_RATE_LIMITS,
): Promise<void> {
  await app.register(rateLimit, { global: false });
  const callerKey = (request: FastifyRequest) =>
    request.principal?.id ??
    `login:${String((request.body as { username?: unknown } | null)?.username ?? request.ip)}`;
  const perCaller = app.createRateLimit({
    max: settings.perCaller,
    timeWindow: settings.windowMs,
    keyGenerator: callerKey,
  });
  const owners = new WeakMap<FastifyRequest, string>();
  const perBorrower = app.createRateLimit({
    max: settings.perBorrower,
    timeWindow: settings.windowMs,
    keyGenerator: (request) => owners.get(request) ?? "",
  });
  // After validation, so malformed requests are refused without spending anyone's allowance.
  app.addHook("preHandler", async (request, reply) => {
    if (request.routeOptions.config.sensitive !== true) return;
    await enforce(perCaller, request, reply, "too many requests from this caller");
    const params = request.params as Record<string, string | undefined>;
    const param = OWNED.find((p) => params[p] !== undefined);
    if (param === undefined) return;
    const owner = await ownerOf(headroom.store, param, params[param] as string);
    if (owner === null) return;
    owners.set(request, owner);
    await enforce(perBorrower, request, reply, `too many requests for borrower ${owner}`);
  });
}
