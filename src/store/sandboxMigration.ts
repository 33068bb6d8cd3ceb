import type { Kysely, Migration } from "kysely";

/**
 * 0018: simulation reports say whether they read the book as it was or replayed the history as of
 * a date, and carry the hash of the candidate policy's content, so approval can ask for a
 * simulation of exactly the version approved. Reports stored before this read as book runs.
 */
export function sandboxMigration(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable("simulation_reports")
        .addColumn("mode", "text", (c) => c.notNull().defaultTo("book"))
        .execute();
      await db.schema.alterTable("simulation_reports").addColumn("policy_hash", "text").execute();
    },
  };
}

/**
 * 0021: a simulation run under hypothetical class-wide measures (a what-if stress or region factor
 * on the candidate) keeps them beside its report, so approval can tell it from a run under the
 * measures in force. Null: no what-if (and every report stored before this).
 */
export function sandboxWhatIfMigration(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema.alterTable("simulation_reports").addColumn("what_if", "text").execute();
    },
  };
}
