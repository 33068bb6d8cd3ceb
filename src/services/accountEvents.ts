import type { Store } from "../store/connect.ts";
import { MAX_PAGE } from "./accountQueries.ts";

export interface EventView {
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  data: Record<string, unknown>;
}

/** An account's ingested events, newest first; `before` (epoch ms) pages back through older ones. */
export async function listAccountEvents(
  store: Store,
  accountId: string,
  options: { before?: number; limit: number },
): Promise<EventView[]> {
  let query = store.db
    .selectFrom("events")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("occurred_at", "desc")
    .orderBy("event_id", "desc")
    .limit(Math.min(options.limit, MAX_PAGE));
  if (options.before !== undefined) query = query.where("occurred_at", "<", options.before);
  const rows = await query.execute();
  return rows.map((r) => ({
    eventId: r.event_id,
    type: r.type,
    occurredAt: new Date(r.occurred_at).toISOString(),
    recordedAt: new Date(r.recorded_at).toISOString(),
    data: JSON.parse(r.payload) as Record<string, unknown>,
  }));
}
