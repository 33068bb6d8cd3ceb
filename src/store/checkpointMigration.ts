import type { Kysely, Migration } from "kysely";

/**
 * 0015: Merkle checkpoints over the ledger. Each checkpoint commits to a block of ledger rows
 * (their entry hashes as leaves) and to the checkpoint before it; inclusion proofs are served
 * against them. The ref_id index finds a record's ledger rows for its proof.
 */
export function ledgerCheckpoints(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("ledger_checkpoints")
        .addColumn("id", "bigint", (c) => c.primaryKey())
        .addColumn("from_seq", "bigint", (c) => c.notNull())
        .addColumn("to_seq", "bigint", (c) => c.notNull().unique())
        .addColumn("root", "text", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("ledger_ref").on("ledger").column("ref_id").execute();
    },
  };
}
