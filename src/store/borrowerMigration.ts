import type { Kysely, Migration } from "kysely";

/**
 * 0005: the borrower side. Recourse promised with each adverse decision, appeals and reviews with
 * their evidence, rebuilding plans for frozen or closed lines, and per-channel notice deliveries
 * (so a retried notice never reaches a channel twice).
 */
export function borrowerSide(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("decision_recourse")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("decision_id", "text", (c) => c.notNull().unique())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("goal", "text", (c) => c.notNull())
        .addColumn("available", "integer", (c) => c.notNull())
        .addColumn("recourse", "text", (c) => c.notNull())
        // The feature state the decision read, so the recourse can be re-checked and followed later.
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("by_at", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("decision_recourse_account")
        .on("decision_recourse")
        .column("account_id")
        .execute();
      await db.schema
        .createTable("appeals")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("decision_id", "text", (c) => c.notNull())
        // appeal: the borrower asked; opt_out: the borrower opted out of solely automated decisions.
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("statement", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("paused_action", "integer", (c) => c.notNull())
        .addColumn("filed_at", "bigint", (c) => c.notNull())
        .addColumn("deadline_at", "bigint", (c) => c.notNull())
        .addColumn("reviewer", "text")
        .addColumn("outcome_reason", "text")
        .addColumn("outcome_limit", "bigint")
        .addColumn("decided_at", "bigint")
        .execute();
      await db.schema.createIndex("appeals_queue").on("appeals").columns(["status", "deadline_at"]).execute();
      await db.schema.createIndex("appeals_decision").on("appeals").column("decision_id").execute();
      await db.schema
        .createTable("appeal_evidence")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("appeal_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("filename", "text", (c) => c.notNull())
        .addColumn("content_type", "text", (c) => c.notNull())
        .addColumn("size_bytes", "integer", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        // Base64 text: the same column type on both dialects; files are capped at 1 MiB.
        .addColumn("content", "text", (c) => c.notNull())
        .addColumn("uploaded_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("appeal_evidence_appeal")
        .on("appeal_evidence")
        .column("appeal_id")
        .execute();
      await db.schema
        .createTable("rebuilding_plans")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("decision_id", "text", (c) => c.notNull().unique())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("plan", "text", (c) => c.notNull())
        .addColumn("checkpoints", "text", (c) => c.notNull())
        .addColumn("target_limit", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("completed_at", "bigint")
        .addColumn("outcome", "text")
        .execute();
      await db.schema
        .createIndex("rebuilding_plans_status")
        .on("rebuilding_plans")
        .columns(["status", "account_id"])
        .execute();
      await db.schema
        .createTable("notice_deliveries")
        .addColumn("notice_id", "text", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull())
        .addColumn("delivered_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("notice_deliveries_pk", ["notice_id", "channel"])
        .execute();
    },
  };
}
