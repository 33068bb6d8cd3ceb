import type { Kysely, Migration } from "kysely";

/**
 * 0020: refused drawdowns, by account and event id. Accepted events are remembered in `events`;
 * a refusal must be remembered too, or a replayed batch (a stream redelivery after a crash, a
 * client retry) would judge the drawdown again against the line as later events left it, and
 * could accept what was refused, out of order.
 */
export function refusedEventsMigration(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("refused_events")
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("occurred_at", "bigint", (c) => c.notNull())
        .addColumn("recorded_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("refused_events_pk", ["account_id", "event_id"])
        .execute();
    },
  };
}
