import { useEffect, useState } from "react";
import { getJson } from "../api.ts";
import { useI18n } from "../i18n/I18n.tsx";
import type { AccountDetail, EventView } from "../types.ts";

const PAGE = 100;

/** One line for an event's payload: amounts as money, everything else as key=value. */
function eventDetails(data: Record<string, unknown>, money: (fen: number) => string): string {
  return Object.entries(data)
    .map(([key, value]) =>
      /amount|income|payment|limit/i.test(key) && typeof value === "number"
        ? `${key}=${money(value)}`
        : `${key}=${String(value)}`,
    )
    .join(" · ");
}

type Entry = { at: string; key: string } & (
  | { kind: "event"; event: EventView }
  | { kind: "change"; change: AccountDetail["changes"][number] }
);

/**
 * The account's events, newest first, with the limit changes they led to interleaved; older events
 * load a page at a time. Changes older than the oldest loaded event wait until that page is loaded.
 */
export function Timeline({ accountId, changes }: { accountId: string; changes: AccountDetail["changes"] }) {
  const { t, code, money, dateTime } = useI18n();
  const [events, setEvents] = useState<EventView[]>([]);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const load = (before?: string) =>
    getJson<{ events: EventView[] }>(
      `/v1/accounts/${encodeURIComponent(accountId)}/events?limit=${PAGE}${before === undefined ? "" : `&before=${before}`}`,
    ).then(
      (page) => {
        setEvents((loaded) => (before === undefined ? page.events : [...loaded, ...page.events]));
        setMore(page.events.length === PAGE);
      },
      (e: unknown) => setError(String((e as Error).message)),
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: load only reads accountId; reload when it changes.
  useEffect(() => {
    setEvents([]);
    void load();
  }, [accountId]);

  const oldest = events[events.length - 1]?.occurredAt;
  const entries: Entry[] = [
    ...events.map((event): Entry => ({ at: event.occurredAt, key: event.eventId, kind: "event", event })),
    ...changes
      .filter((c) => !more || (oldest !== undefined && c.effectiveAt >= oldest))
      .map((change): Entry => ({ at: change.effectiveAt, key: change.decisionId, kind: "change", change })),
  ].sort((a, b) => b.at.localeCompare(a.at));

  if (error !== null) return <p className="error">{t("common.error", { detail: error })}</p>;
  return (
    <>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e) =>
          e.kind === "event" ? (
            <li key={e.key}>
              <time>{dateTime(e.at)}</time> <strong>{code("event", e.event.type)}</strong>{" "}
              <span className="muted">{eventDetails(e.event.data, money)}</span>
            </li>
          ) : (
            <li key={e.key} className="timeline-change" data-change={e.key}>
              <time>{dateTime(e.at)}</time> <strong>{t("account.limitChange")}</strong>{" "}
              {money(e.change.fromLimit)} → {money(e.change.toLimit)}
              {e.change.fromStatus !== e.change.toStatus &&
                ` (${code("status", e.change.fromStatus)} → ${code("status", e.change.toStatus)})`}
            </li>
          ),
        )}
      </ol>
      {more && oldest !== undefined && (
        <button type="button" data-testid="timeline-older" onClick={() => void load(oldest)}>
          {t("account.older")}
        </button>
      )}
    </>
  );
}
