import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import { borrowerSide } from "./borrowerMigration.ts";
import { budgetRestorations, budgets, budgetTriggersByChange } from "./budgetMigration.ts";
import { ledgerCheckpoints } from "./checkpointMigration.ts";
import { rateChanges } from "./rateChangeMigration.ts";
import { refusedEventsMigration } from "./refusedEventsMigration.ts";
import { sandboxMigration, sandboxWhatIfMigration } from "./sandboxMigration.ts";
import { trust } from "./trustMigration.ts";

export type StoreDialect = "sqlite" | "postgres";

/** Migrations are code, in order; both dialects run the same ones. */
/**
 * On SQLite, tables keyed by text are stored clustered on that key (WITHOUT ROWID): one B-tree
 * per row instead of a table plus a key index, which halves the pages an ingest batch dirties.
 */
function withoutRowId(dialect: StoreDialect) {
  return (builder: CreateTableBuilder<string, string>) =>
    dialect === "sqlite" ? builder.modifyEnd(sql`without rowid`) : builder;
}

function foundation(dialect: StoreDialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("borrowers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("region", "text", (c) => c.notNull())
        .addColumn("segment", "text", (c) => c.notNull())
        .addColumn("declared_income", "bigint", (c) => c.notNull())
        .addColumn("consent_bureau", "integer", (c) => c.notNull())
        .addColumn("opt_out_automated", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .$call(withoutRowId(dialect))
        .execute();
      await db.schema
        .createTable("credit_lines")
        .addColumn("account_id", "text", (c) => c.primaryKey())
        .addColumn("borrower_id", "text", (c) => c.notNull())
        .addColumn("region", "text", (c) => c.notNull())
        .addColumn("segment", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("limit_amount", "bigint", (c) => c.notNull())
        .addColumn("balance", "bigint", (c) => c.notNull())
        .addColumn("opened_at", "bigint", (c) => c.notNull())
        .addColumn("last_change_at", "bigint")
        .addColumn("recent_limits", "text", (c) => c.notNull())
        .addColumn("pending_decision_id", "text")
        .addColumn("pending_action", "text")
        .addColumn("features", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("credit_lines_borrower").on("credit_lines").column("borrower_id").execute();
      await db.schema
        .createTable("line_changes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("decision_id", "text", (c) => c.notNull())
        .addColumn("from_limit", "bigint", (c) => c.notNull())
        .addColumn("to_limit", "bigint", (c) => c.notNull())
        .addColumn("from_status", "text", (c) => c.notNull())
        .addColumn("to_status", "text", (c) => c.notNull())
        .addColumn("effective_at", "bigint", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("line_changes_account").on("line_changes").column("account_id").execute();
      // Events are keyed by account first: idempotency is per account's event id, and one
      // account's events sit together on disk instead of scattered over the table.
      await db.schema
        .createTable("events")
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("occurred_at", "bigint", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull())
        // Appended in arrival order (rowid): a batch fills a few new pages instead of dirtying one
        // page per account, while the key's index keeps replays idempotent.
        .addPrimaryKeyConstraint("events_pk", ["account_id", "event_id"])
        .execute();
      await db.schema
        .createTable("decisions")
        .addColumn("id", "text", (c) => c.primaryKey())
        // The id is derived from the idempotency key, so the primary key already refuses a repeat.
        .addColumn("idempotency_key", "text", (c) => c.notNull())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("trigger_kind", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("rule_id", "text")
        .addColumn("adverse", "integer", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("from_limit", "bigint", (c) => c.notNull())
        .addColumn("to_limit", "bigint", (c) => c.notNull())
        .addColumn("from_status", "text", (c) => c.notNull())
        .addColumn("to_status", "text", (c) => c.notNull())
        .addColumn("score", "integer", (c) => c.notNull())
        .addColumn("decided_at", "bigint", (c) => c.notNull())
        .addColumn("effective_at", "bigint", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .addColumn("policy_version", "text", (c) => c.notNull())
        .addColumn("model_version", "text", (c) => c.notNull())
        .addColumn("input", "text", (c) => c.notNull())
        .addColumn("output", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("decisions_account_time")
        .on("decisions")
        .columns(["account_id", "decided_at"])
        .execute();
      await db.schema
        .createIndex("decisions_scheduled")
        .on("decisions")
        .column("effective_at")
        .where(sql.ref("status"), "=", "scheduled")
        .execute();
      await db.schema
        .createTable("ledger")
        .addColumn("seq", "bigint", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("ref_id", "text", (c) => c.notNull())
        .addColumn("body_hash", "text", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("ledger_head")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .execute();
      await db
        .insertInto("ledger_head")
        .values({ id: 1, seq: 0, hash: "0".repeat(64) })
        .execute();
      await db.schema
        .createTable("outbox")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("delivered_at", "bigint")
        .addColumn("last_error", "text")
        .execute();
      await db.schema.createIndex("outbox_due").on("outbox").columns(["status", "next_attempt_at"]).execute();
      await db.schema
        .createTable("job_cursors")
        .addColumn("job", "text", (c) => c.primaryKey())
        .addColumn("cursor", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

function pricing(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("drawdowns")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("rate_bps", "integer", (c) => c.notNull())
        .addColumn("rate_basis", "text", (c) => c.notNull())
        .addColumn("pricing_product", "text", (c) => c.notNull())
        .addColumn("policy_version", "text", (c) => c.notNull())
        .addColumn("repayment", "text", (c) => c.notNull())
        .addColumn("term_months", "integer", (c) => c.notNull())
        .addColumn("total_interest", "bigint", (c) => c.notNull())

        .addColumn("drawn_at", "bigint", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("drawdowns_account")
        .on("drawdowns")
        .columns(["account_id", "drawn_at"])
        .execute();
    },
  };
}

function modelRegistry(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("model_versions")
        .addColumn("version", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("author", "text", (c) => c.notNull())
        .addColumn("approved_by", "text")
        .addColumn("artifact", "text", (c) => c.notNull())
        .addColumn("training_summary", "text", (c) => c.notNull())
        .addColumn("validation_report", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("model_transitions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("version", "text", (c) => c.notNull())
        .addColumn("from_state", "text", (c) => c.notNull())
        .addColumn("to_state", "text", (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

function hardship(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("hardship_programs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("relief", "text", (c) => c.notNull())
        .addColumn("region", "text")
        .addColumn("segment", "text")
        .addColumn("starts_at", "bigint", (c) => c.notNull())
        .addColumn("ends_at", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("hardship_offers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("program_id", "text", (c) => c.notNull())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("responded_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("hardship_offers_account")
        .on("hardship_offers")
        .column("account_id")
        .execute();
      await db.schema
        .createTable("drawdown_reschedules")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("drawdown_id", "text", (c) => c.notNull())
        .addColumn("offer_id", "text", (c) => c.notNull())
        .addColumn("schedule", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

function simulations(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("simulation_reports")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("candidate_policy", "text", (c) => c.notNull())
        .addColumn("candidate_model", "text", (c) => c.notNull())
        .addColumn("as_of", "bigint", (c) => c.notNull())
        .addColumn("accounts", "integer", (c) => c.notNull())
        .addColumn("hits", "integer", (c) => c.notNull())
        .addColumn("report", "text", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("simulation_reports_policy")
        .on("simulation_reports")
        .column("candidate_policy")
        .execute();
    },
  };
}

/** Policy versions with their YAML, deployments (champion / challenger / shadows) and shadow decisions. */

/** Policy versions with their YAML, deployments (champion / challenger / shadows) and shadow decisions. */
function policyVersions(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("policy_versions")
        .addColumn("version", "text", (c) => c.primaryKey())
        .addColumn("yaml", "text", (c) => c.notNull())
        .addColumn("author", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("approved_by", "text")
        .addColumn("approved_at", "bigint")
        .execute();
      await db.schema
        .createTable("policy_deployments")
        .addColumn("seq", "bigint", (c) => c.primaryKey())
        .addColumn("champion", "text", (c) => c.notNull())
        .addColumn("challenger", "text")
        .addColumn("challenger_share", "double precision", (c) => c.notNull())
        .addColumn("shadows", "text", (c) => c.notNull())
        .addColumn("activated_by", "text", (c) => c.notNull())
        .addColumn("activated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("shadow_decisions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("policy_version", "text", (c) => c.notNull())
        .addColumn("run_id", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("rule_id", "text")
        .addColumn("from_limit", "bigint", (c) => c.notNull())
        .addColumn("to_limit", "bigint", (c) => c.notNull())
        .addColumn("decided_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("shadow_decisions_version")
        .on("shadow_decisions")
        .columns(["policy_version", "run_id"])
        .execute();
    },
  };
}

/** Marks shadow decisions the class-wide measures made, as live decisions' outputs already do. */
function shadowClassWide(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable("shadow_decisions")
        .addColumn("class_wide", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}

class CodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "0001_foundation": foundation(this.dialect),
      "0003_policy_versions": policyVersions(),
      "0005_borrower": borrowerSide(),
      "0010_pricing": pricing(),
      "0011_model_registry": modelRegistry(),
      "0012_hardship": hardship(),
      "0013_simulations": simulations(),
      "0014_budgets": budgets(this.dialect),
      "0015_ledger_checkpoints": ledgerCheckpoints(),
      "0016_trust": trust(),
      "0018_sandbox": sandboxMigration(),
      "0019_rate_changes": rateChanges(),
      "0020_refused_events": refusedEventsMigration(),
      "0021_simulation_what_if": sandboxWhatIfMigration(),
      "0022_budget_restorations": budgetRestorations(),
      "0023_shadow_class_wide": shadowClassWide(),
      "0024_budget_triggers_by_change": budgetTriggersByChange(this.dialect),
    };
  }
}

export async function migrateToLatest<T>(db: Kysely<T>, dialect: StoreDialect): Promise<void> {
  // Features land from parallel branches, so a database may have run a later-numbered migration
  // before an earlier-numbered one arrives; each migration only adds its own tables.
  const migrator = new Migrator({
    db,
    provider: new CodeMigrations(dialect),
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error !== undefined || failed !== undefined) {
    throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}
