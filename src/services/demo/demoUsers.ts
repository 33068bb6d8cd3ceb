import type { Role } from "../access.ts";
import { createApiKey, upsertUser } from "../access.ts";
import type { Headroom } from "../headroom.ts";

/** The demo's shared password, documented in the README; never use the demo users in production. */
export const DEMO_PASSWORD = "headroom-demo";
const STAFF_USERS: Role[] = ["admin", "analyst", "reviewer", "approver", "auditor"];

export interface DemoLogins {
  users: { username: string; role: Role; borrowerId: string | null }[];
  password: string;
  adminKey: string;
}

/**
 * One console user per staff role (username = role), one borrower user for the first demo
 * borrower, and an admin API key for scripts; the key's secret is only ever shown here.
 */
export async function seedDemoLogins(headroom: Headroom): Promise<DemoLogins> {
  const now = headroom.clock();
  const users: DemoLogins["users"] = STAFF_USERS.map((role) => ({ username: role, role, borrowerId: null }));
  const first = await headroom.store.db
    .selectFrom("credit_lines")
    .select("borrower_id")
    .orderBy("account_id")
    .limit(1)
    .executeTakeFirst();
  if (first !== undefined)
    users.push({ username: "borrower", role: "borrower", borrowerId: first.borrower_id });
  for (const user of users) await upsertUser(headroom.store, { ...user, password: DEMO_PASSWORD }, now);
  const { secret } = await createApiKey(headroom.store, { name: "demo-admin", role: "admin" }, now);
  return { users, password: DEMO_PASSWORD, adminKey: secret };
}

export function loginHelp(logins: DemoLogins, base: string): string {
  const names = logins.users.map((u) => `${u.username}${u.borrowerId === null ? "" : ` (${u.borrowerId})`}`);
  return (
    `log in to the console at ${base}/ as ${names.join(", ")} with password "${logins.password}"\n` +
    `admin API key (shown once): curl -H "Authorization: Bearer ${logins.adminKey}" ${base}/v1/accounts\n`
  );
}
