import { type Kysely, type Migration, sql } from "kysely";
import type { StoreDialect } from "./migrations.ts";

/**
 * 0014: exposure budgets, the queue of increases waiting for budget room, and the analyst's
 * regional risk factors and portfolio stress multiplier.
 *
 * A budget's `used` is kept by triggers on credit_lines, in the statement that changes a limit or
 * a balance, so no write path (ingest, review, appeals, plans, due actions, ...) can forget it and
 * it is exactly the sum over the lines it covers. A product budget covers every line of the
 * deployment's product (one pricing product per deployment), so it counts like a total.
 */
export function budgets(dialect: StoreDialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("budgets")
        .addColumn("id", "text", (c) => c.primaryKey())
        // total | region | segment | product
        .addColumn("scope_kind", "text", (c) => c.notNull())
        .addColumn("scope_value", "text", (c) => c.notNull())
        // limit (committed credit) | balance (drawn credit)
        .addColumn("measure", "text", (c) => c.notNull())
        .addColumn("cap", "bigint", (c) => c.notNull())
        .addColumn("used", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("budgets_scope_measure", ["scope_kind", "scope_value", "measure"])
        .execute();
      await db.schema
        .createTable("budget_changes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("budget_id", "text", (c) => c.notNull())
        // set | remove
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("cap_before", "bigint")
        .addColumn("cap_after", "bigint")
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("budget_queue")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("decision_id", "text", (c) => c.notNull())
        .addColumn("from_limit", "bigint", (c) => c.notNull())
        .addColumn("requested_limit", "bigint", (c) => c.notNull())
        // Risk-adjusted priority: the lower the borrower's probability of default, the earlier.
        .addColumn("pd", "double precision", (c) => c.notNull())
        .addColumn("requested_at", "bigint", (c) => c.notNull())
        // waiting | granted | lapsed
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("settled_at", "bigint")
        .addColumn("settled_decision_id", "text")
        .execute();
      await db.schema
        .createIndex("budget_queue_waiting")
        .on("budget_queue")
        .columns(["status", "pd", "requested_at"])
        .execute();
      await db.schema
        .createTable("risk_settings")
        .addColumn("id", "text", (c) => c.primaryKey())
        // region (a region's risk factor) | stress (the portfolio stress multiplier)
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("region", "text")
        .addColumn("factor", "double precision", (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      if (dialect === "postgres") await postgresUsageTrigger(db);
      else await sqliteUsageTriggers(db);
    },
  };
}

/** The budgets a line (alias L) counts in, as a SQL condition on budgets. */
const covers = (l: string) =>
  `(scope_kind in ('total', 'product') or (scope_kind = 'region' and scope_value = ${l}.region) or (scope_kind = 'segment' and scope_value = ${l}.segment))`;
const amount = (l: string) => `(case measure when 'limit' then ${l}.limit_amount else ${l}.balance end)`;
/** SQLite trigger statements: the new line counted into its budgets, the old one taken out of them. */
const addNew = `update budgets set used = used + ${amount("new")} where ${covers("new")};`;
const removeOld = `update budgets set used = used - ${amount("old")} where ${covers("old")};`;

/** Rows of `rows` (a transition table) signed by `sign`, per budget covering them, on PostgreSQL. */
const pgAmounts = (rows: string, sign: string) => `
  select b.id, ${sign} (case b.measure when 'limit' then r.limit_amount else r.balance end) as amount
  from ${rows} r join budgets b on (b.scope_kind in ('total', 'product')
    or (b.scope_kind = 'region' and b.scope_value = r.region)
    or (b.scope_kind = 'segment' and b.scope_value = r.segment))`;

/**
 * On PostgreSQL the triggers are per statement over transition tables: one multi-row upsert of
 * lines becomes one update of each budget it touches, not one per line (which would rewrite the
 * same few budget rows thousands of times per batch).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
async function postgresUsageTrigger(db: Kysely<any>): Promise<void> {
  const fn = (name: string, amounts: string) =>
    sql.raw(`
    create function ${name}() returns trigger language plpgsql as $$
    begin
      if not exists (select 1 from budgets) then return null; end if;
      update budgets set used = used + d.delta
      from (select id, sum(amount) as delta from (${amounts}) x group by id) d
      where budgets.id = d.id and d.delta <> 0;
      return null;
    end $$`);
  await fn("headroom_budget_insert", pgAmounts("new_rows", "")).execute(db);
  await fn("headroom_budget_delete", pgAmounts("old_rows", "-")).execute(db);
  await fn(
    "headroom_budget_update",
    `${pgAmounts("new_rows", "")} union all ${pgAmounts("old_rows", "-")}`,
  ).execute(db);
  for (const [event, tables, name] of [
    ["insert", "new table as new_rows", "headroom_budget_insert"],
    ["delete", "old table as old_rows", "headroom_budget_delete"],
    ["update", "old table as old_rows new table as new_rows", "headroom_budget_update"],
  ] as const) {
    await sql
      .raw(
        `create trigger credit_lines_budget_${event} after ${event} on credit_lines referencing ${tables} for each statement execute function ${name}()`,
      )
      .execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
async function sqliteUsageTriggers(db: Kysely<any>): Promise<void> {
  await sql
    .raw(`create trigger credit_lines_budget_insert after insert on credit_lines begin ${addNew} end`)
    .execute(db);
  await sql
    .raw(`create trigger credit_lines_budget_delete after delete on credit_lines begin ${removeOld} end`)
    .execute(db);
  await sql
    .raw(`
    create trigger credit_lines_budget_update after update of limit_amount, balance on credit_lines
    when new.limit_amount != old.limit_amount or new.balance != old.balance
    begin ${removeOld} ${addNew} end`)
    .execute(db);
}

/**
 * 0024: cheaper usage triggers on SQLite.
 * - They do nothing while no budget is set, as PostgreSQL's already do. The per-row trigger's two
 *   updates cost more than the write of the line itself (about 12 µs of a line's 25 in the ingest
 *   benchmark), and a book without budgets has no usage to keep: a budget set later reads its
 *   usage from the lines when it is created (budgets.ts).
 * - A line that keeps its region and segment (every ingest write) adds its change to the budgets
 *   it counts in, in one update of the measure that moved, not a removal and a re-adding of both.
 *   A move to another region or segment still takes the line out of the old budgets and into the new.
 */
export function budgetTriggersByChange(dialect: StoreDialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      if (dialect === "postgres") return;
      for (const event of ["insert", "delete", "update"])
        await sql.raw(`drop trigger credit_lines_budget_${event}`).execute(db);
      const any = "exists (select 1 from budgets)";
      const sameScope = "new.region = old.region and new.segment = old.segment";
      for (const statement of [
        `create trigger credit_lines_budget_insert after insert on credit_lines when ${any} begin ${addNew} end`,
        `create trigger credit_lines_budget_delete after delete on credit_lines when ${any} begin ${removeOld} end`,
        `create trigger credit_lines_budget_update after update of limit_amount, balance on credit_lines
          when ${any} and ${sameScope} and (new.limit_amount != old.limit_amount or new.balance != old.balance)
          begin update budgets set used = used + ${amount("new")} - ${amount("old")}
            where ${covers("new")} and ${amount("new")} != ${amount("old")}; end`,
        `create trigger credit_lines_budget_rescope after update of region, segment, limit_amount, balance on credit_lines
          when ${any} and not (${sameScope})
          begin ${removeOld} ${addNew} end`,
      ])
        await sql.raw(statement).execute(db);
    },
  };
}

/**
 * 0022: restorations in the budget queue. An appeal reversal and a plan's reopening raise a line's
 * limit too, so they spend budget; when it is tight they wait in the queue ahead of ordinary
 * increases. `kind` says which (increase | reversal | reopen), `ref_id` names the appeal a reversal
 * carries out, `to_status` the status it gives the line back.
 */
export function budgetRestorations(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable("budget_queue")
        .addColumn("kind", "text", (c) => c.notNull().defaultTo("increase"))
        .execute();
      await db.schema.alterTable("budget_queue").addColumn("ref_id", "text").execute();
      await db.schema.alterTable("budget_queue").addColumn("to_status", "text").execute();
    },
  };
}
