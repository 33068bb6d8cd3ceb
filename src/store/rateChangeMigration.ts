import type { Kysely, Migration } from "kysely";

/**
 * 0019: rate changes on existing lines. Each line carries the rate its new drawdowns are priced
 * at (and any announced increase); each change of that rate is a decision (noticed, appealable)
 * whose rates and bases are kept in rate_changes. Fees charged to a line are kept in fees; a
 * hardship program may carry eligibility conditions.
 */
export function rateChanges(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema.alterTable("credit_lines").addColumn("rate_terms", "text").execute();
      await db.schema.alterTable("hardship_programs").addColumn("eligibility", "text").execute();
      await db.schema
        .createTable("rate_changes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("decision_id", "text", (c) => c.notNull().unique())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("from_rate_bps", "integer", (c) => c.notNull())
        .addColumn("to_rate_bps", "integer", (c) => c.notNull())
        .addColumn("from_terms", "text", (c) => c.notNull())
        .addColumn("to_terms", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("rate_changes_account").on("rate_changes").column("account_id").execute();
      await db.schema
        .createTable("fees")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        // The cut the fee results from (its notice started the grace period), if any.
        .addColumn("cause_decision_id", "text")
        .addColumn("charged_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("fees_account").on("fees").columns(["account_id", "charged_at"]).execute();
    },
  };
}
