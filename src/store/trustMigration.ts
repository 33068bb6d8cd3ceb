import type { Kysely, Migration } from "kysely";

/**
 * 0016: who may call Headroom. API keys for integrations and console users with sessions; secrets
 * are stored only as hashes (API keys and session tokens: SHA-256 of 256 random bits; passwords:
 * scrypt with a per-user salt). Personal data is kept only encrypted: one AES-256-GCM data key per
 * borrower, wrapped by the master key; erasure destroys the wrapped key (crypto-shredding).
 */
export function trust(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("api_keys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("key_hash", "text", (c) => c.notNull().unique())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("borrower_id", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .execute();
      await db.schema
        .createTable("users")
        .addColumn("username", "text", (c) => c.primaryKey())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("borrower_id", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("username", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      // Every write a principal made through the API, sealed in the ledger (who, what, when).
      await db.schema
        .createTable("api_actions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("principal", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("method", "text", (c) => c.notNull())
        .addColumn("route", "text", (c) => c.notNull())
        .addColumn("params", "text", (c) => c.notNull())
        .addColumn("status", "integer", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("borrower_keys")
        .addColumn("borrower_id", "text", (c) => c.primaryKey())
        // null once destroyed: whatever was encrypted under it is unreadable for good.
        .addColumn("wrapped_key", "text")
        .addColumn("master_key_id", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("destroyed_at", "bigint")
        .execute();
      await db.schema
        .createTable("borrower_personal_data")
        .addColumn("borrower_id", "text", (c) => c.primaryKey())
        .addColumn("ciphertext", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}
