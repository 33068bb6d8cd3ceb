import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../engine/ledger.ts";
import type { Store } from "../store/connect.ts";

/**
 * Who may call Headroom. Integrations hold API keys, console users hold sessions; both resolve to
 * a principal with one role. A borrower principal is tied to one borrower and reaches only that
 * borrower's accounts, decisions and appeals.
 */
export const ROLES = [
  "borrower",
  "analyst",
  "reviewer",
  "approver",
  "auditor",
  "admin",
  // Core banking and bureau feeds: they post events and nothing else.
  "integration",
] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** `key:<id>` or `user:<username>`: what the ledger and logs name as the actor. */
  id: string;
  role: Role;
  borrowerId: string | null;
}

export class AccessRefused extends Error {}

const API_KEY_PREFIX = "hrk_";
export const SESSION_COOKIE = "headroom_session";
const SESSION_TTL_MS = 12 * 3600_000;

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

function checkBorrowerBinding(role: Role, borrowerId: string | null): void {
  if ((role === "borrower") !== (borrowerId !== null))
    throw new AccessRefused(
      "a borrower principal needs a borrower id, and only a borrower principal has one",
    );
}

/** Creates an API key and returns its secret, which is shown once and stored only as a hash. */
export async function createApiKey(
  store: Store,
  input: { name: string; role: Role; borrowerId?: string | null },
  now: number,
): Promise<{ keyId: string; secret: string }> {
  const borrowerId = input.borrowerId ?? null;
  checkBorrowerBinding(input.role, borrowerId);
  const keyId = `key_${randomBytes(8).toString("hex")}`;
  const secret = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  await store.db
    .insertInto("api_keys")
    .values({
      id: keyId,
      key_hash: sha256Hex(secret),
      name: input.name,
      role: input.role,
      borrower_id: borrowerId,
      created_at: now,
      revoked_at: null,
    })
    .execute();
  return { keyId, secret };
}

export async function listApiKeys(store: Store) {
  const rows = await store.db.selectFrom("api_keys").selectAll().orderBy("created_at").execute();
  return rows.map((r) => ({
    keyId: r.id,
    name: r.name,
    role: r.role,
    borrowerId: r.borrower_id,
    createdAt: new Date(r.created_at).toISOString(),
    revoked: r.revoked_at !== null,
  }));
}

export async function revokeApiKey(store: Store, keyId: string, now: number): Promise<boolean> {
  const result = await store.db
    .updateTable("api_keys")
    .set({ revoked_at: now })
    .where("id", "=", keyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString("hex")}:${scryptSync(password, salt, 32).toString("hex")}`;
}

function passwordMatches(password: string, stored: string): boolean {
  const [salt, hash] = stored.split(":");
  if (salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "hex");
  const actual = scryptSync(password, Buffer.from(salt, "hex"), expected.length);
  return timingSafeEqual(actual, expected);
}

/** Adds a console user, or replaces the password and role of an existing one. */
export async function upsertUser(
  store: Store,
  input: { username: string; password: string; role: Role; borrowerId?: string | null },
  now: number,
): Promise<void> {
  const borrowerId = input.borrowerId ?? null;
  checkBorrowerBinding(input.role, borrowerId);
  const row = {
    username: input.username,
    password_hash: hashPassword(input.password),
    role: input.role,
    borrower_id: borrowerId,
    created_at: now,
  };
  await store.db
    .insertInto("users")
    .values(row)
    .onConflict((oc) =>
      oc
        .column("username")
        .doUpdateSet({ password_hash: row.password_hash, role: row.role, borrower_id: row.borrower_id }),
    )
    .execute();
}

/** Checks a password and opens a session; null when the user or password is wrong. */
export async function login(
  store: Store,
  username: string,
  password: string,
  now: number,
): Promise<{ token: string; principal: Principal; expiresAt: number } | null> {
  const user = await store.db
    .selectFrom("users")
    .selectAll()
    .where("username", "=", username)
    .executeTakeFirst();
  if (user === undefined || !passwordMatches(password, user.password_hash) || !isRole(user.role)) return null;
  const token = randomBytes(32).toString("base64url");
  const expiresAt = now + SESSION_TTL_MS;
  await store.db
    .insertInto("sessions")
    .values({ token_hash: sha256Hex(token), username, created_at: now, expires_at: expiresAt })
    .execute();
  return {
    token,
    principal: { id: `user:${username}`, role: user.role, borrowerId: user.borrower_id },
    expiresAt,
  };
}

export async function logout(store: Store, token: string): Promise<void> {
  await store.db.deleteFrom("sessions").where("token_hash", "=", sha256Hex(token)).execute();
}

/** The principal behind an API key (`Authorization: Bearer hrk_...`) or a session token. */
export async function authenticate(
  store: Store,
  credential: { apiKey?: string; sessionToken?: string },
  now: number,
): Promise<Principal | null> {
  if (credential.apiKey !== undefined) {
    if (!credential.apiKey.startsWith(API_KEY_PREFIX)) return null;
    const key = await store.db
      .selectFrom("api_keys")
      .selectAll()
      .where("key_hash", "=", sha256Hex(credential.apiKey))
      .executeTakeFirst();
    if (key === undefined || key.revoked_at !== null || !isRole(key.role)) return null;
    return { id: `key:${key.id}`, role: key.role, borrowerId: key.borrower_id };
  }
  if (credential.sessionToken !== undefined) {
    const session = await store.db
      .selectFrom("sessions")
      .innerJoin("users", "users.username", "sessions.username")
      .select(["users.username", "users.role", "users.borrower_id", "sessions.expires_at"])
      .where("sessions.token_hash", "=", sha256Hex(credential.sessionToken))
      .executeTakeFirst();
    if (session === undefined || session.expires_at <= now || !isRole(session.role)) return null;
    return { id: `user:${session.username}`, role: session.role, borrowerId: session.borrower_id };
  }
  return null;
}

/** The borrower who is, or owns, a borrower id, account, decision or appeal; null when there is no such object. */
export async function ownerOf(
  store: Store,
  kind: "borrowerId" | "accountId" | "decisionId" | "appealId",
  id: string,
): Promise<string | null> {
  const db = store.db;
  let row: { borrower_id: string } | undefined;
  if (kind === "borrowerId")
    row = await db
      .selectFrom("borrowers")
      .select("id as borrower_id")
      .where("id", "=", id)
      .executeTakeFirst();
  else if (kind === "accountId")
    row = await db
      .selectFrom("credit_lines")
      .select("borrower_id")
      .where("account_id", "=", id)
      .executeTakeFirst();
  else if (kind === "decisionId")
    row = await db
      .selectFrom("decisions")
      .innerJoin("credit_lines", "credit_lines.account_id", "decisions.account_id")
      .select("credit_lines.borrower_id")
      .where("decisions.id", "=", id)
      .executeTakeFirst();
  else
    row = await db
      .selectFrom("appeals")
      .innerJoin("credit_lines", "credit_lines.account_id", "appeals.account_id")
      .select("credit_lines.borrower_id")
      .where("appeals.id", "=", id)
      .executeTakeFirst();
  return row?.borrower_id ?? null;
}

export async function accountsOf(store: Store, borrowerId: string): Promise<string[]> {
  const rows = await store.db
    .selectFrom("credit_lines")
    .select("account_id")
    .where("borrower_id", "=", borrowerId)
    .orderBy("account_id")
    .execute();
  return rows.map((r) => r.account_id);
}
