import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { createApiKey, type Role } from "../../src/services/access.ts";
import type { Headroom } from "../../src/services/headroom.ts";

export type Inject = (options: InjectOptions) => Promise<LightMyRequestResponse>;

/** A fresh API key for a role, as the Authorization header a request sends. */
export async function keyHeader(
  headroom: Headroom,
  role: Role,
  borrowerId: string | null = null,
): Promise<{ authorization: string }> {
  const { secret } = await createApiKey(headroom.store, { name: `test-${role}`, role, borrowerId }, 0);
  return { authorization: `Bearer ${secret}` };
}

/** app.inject as a caller holding a key for `role` (admin unless told); headers given win. */
export async function injectAs(
  app: FastifyInstance,
  headroom: Headroom,
  role: Role = "admin",
  borrowerId: string | null = null,
): Promise<Inject> {
  const auth = await keyHeader(headroom, role, borrowerId);
  return (options) => app.inject({ ...options, headers: { ...auth, ...options.headers } });
}
