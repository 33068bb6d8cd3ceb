/**
 * HTTP load: autocannon against a real `headroom serve` child process on loopback, for a bounded
 * time with a fixed number of connections, on SQLite and (when reachable) PostgreSQL.
 * - events: POST /v1/events, each request a batch of events (logins, card transactions, bureau
 *   inquiries) for accounts opened beforehand; events/s counts only events in 2xx answers.
 * - decisions: POST /v1/accounts/:id/decisions, an analyst's decide-now with a fresh request id.
 * Events run twice: flat out with autocannon (the most the server takes; latency is then mostly
 * queueing behind the other connections), and paced: requests sent at a steady `--rate` events/s
 * whatever the answers do (open loop; autocannon's own rate limit sends each second's quota in one
 * burst), latency counted from when each request was due. The target (5,000 events/s with
 * p99 under 50 ms) is judged on the paced run.
 * Prints req/s, events/s and latency percentiles. Asserts nothing about time.
 *
 *   npx tsx bench/load.ts [--accounts 5000] [--batch 25] [--connections 16] [--seconds 10] [--rate 5000]
 *                         [--only sqlite|postgres]
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import type { CreditEvent } from "../src/engine/events.ts";
import { createKeyWithCli, freePort, runHeadroom, waitForHealthy } from "../test/support/server.ts";
import { onEachStore } from "./support/benchStores.ts";

const { values } = parseArgs({
  options: {
    accounts: { type: "string", default: "5000" },
    batch: { type: "string", default: "25" },
    connections: { type: "string", default: "16" },
    seconds: { type: "string", default: "10" },
    rate: { type: "string", default: "5000" },
    only: { type: "string" },
  },
});
const accounts = Number(values.accounts);
const batch = Number(values.batch);
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const pacedEventsPerSecond = Number(values.rate);
const TARGET_EVENTS_PER_S = 5000;
const TARGET_P99_MS = 50;

const accountId = (i: number) => `load_${String(i).padStart(7, "0")}`;

async function openAccounts(base: string, key: string, start: number): Promise<void> {
  for (let i = 0; i < accounts; i += 1000) {
    const events: CreditEvent[] = [];
    for (let a = i; a < Math.min(accounts, i + 1000); a++) {
      events.push({
        id: "open",
        accountId: accountId(a),
        type: "account_opened",
        occurredAt: new Date(start).toISOString(),
        data: {
          borrowerId: `lb_${a}`,
          region: "east",
          segment: "salaried",
          declaredMonthlyIncome: 1_200_000,
          initialLimit: 3_000_000,
          consentBureau: true,
          optOutAutomated: false,
        },
      });
    }
    const response = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ events }),
    });
    if (!response.ok) throw new Error(`opening accounts: HTTP ${response.status} ${await response.text()}`);
  }
}

/** Batches of everyday events, each id new, times increasing, accounts spread evenly. */
function eventBodies(start: number): () => string {
  let n = 0;
  return () => {
    const events: CreditEvent[] = [];
    for (let k = 0; k < batch; k++, n++) {
      const common = {
        id: `ev${n}`,
        accountId: accountId((n * 7919) % accounts),
        occurredAt: new Date(start + n).toISOString(),
      };
      if (n % 3 === 0)
        events.push({ ...common, type: "login", data: { deviceId: `d${n % 97}`, anomalous: false } });
      else if (n % 3 === 1)
        events.push({
          ...common,
          type: "transaction",
          data: { amount: 10_000 + (n % 500), category: "grocery" },
        });
      else
        events.push({
          ...common,
          type: "bureau_inquiry",
          data: { lender: "other-bank", purpose: "credit_application" },
        });
    }
    return JSON.stringify({ events });
  };
}

interface RunSummary {
  ok: number;
  seconds: number;
  latency: { p50: number; p99: number; max: number };
  failed: string;
}

const fromAutocannon = (r: autocannon.Result): RunSummary => ({
  ok: r["2xx"],
  seconds: r.duration,
  latency: r.latency,
  failed: `${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
});

function report(name: string, run: RunSummary, eventsPerRequest: number, judged: boolean): void {
  const rps = run.ok / run.seconds;
  const events = eventsPerRequest > 0 ? ` = ${Math.round(rps * eventsPerRequest)} events/s` : "";
  console.log(
    `${name.padEnd(22)} ${Math.round(rps)} req/s${events}; latency p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, ` +
      `max ${run.latency.max} ms; ${run.failed}`,
  );
  if (judged) {
    const met = rps * eventsPerRequest >= TARGET_EVENTS_PER_S * 0.99 && run.latency.p99 < TARGET_P99_MS;
    console.log(
      `${"".padEnd(22)} target ${TARGET_EVENTS_PER_S} events/s with p99 < ${TARGET_P99_MS} ms: ${met ? "MET" : "NOT MET"}`,
    );
  }
}

/** Most requests the paced run lets wait for an answer; beyond it the server is not keeping up. */
const MAX_PACED_IN_FLIGHT = 256;

/** Requests due at a steady rate, sent when due whether or not earlier ones have answered. */
async function paced(
  url: string,
  headers: Record<string, string>,
  nextBody: () => string,
  perSecond: number,
) {
  const total = Math.round(perSecond * seconds);
  const latencies: number[] = [];
  let inFlight = 0;
  let failed = 0;
  let skipped = 0;
  const sends: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= MAX_PACED_IN_FLIGHT) {
      skipped++;
      continue;
    }
    inFlight++;
    sends.push(
      fetch(url, { method: "POST", headers, body: nextBody() })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.ok) latencies.push(performance.now() - due);
          else failed++;
        })
        .catch(() => {
          failed++;
        })
        .finally(() => {
          inFlight--;
        }),
    );
  }
  await Promise.all(sends);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    ok: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latency: { p50: at(0.5), p99: at(0.99), max: at(1) },
    failed: `${failed} failed, ${skipped} not sent for want of room (at most ${MAX_PACED_IN_FLIGHT} waiting)`,
  };
}

async function load(name: string, database: string): Promise<void> {
  const integration = await createKeyWithCli(database, "integration", "load");
  const analyst = await createKeyWithCli(database, "analyst", "load");
  const port = await freePort();
  // One analyst asking for thousands of re-decisions a second is the load here, not abuse.
  const server = runHeadroom(["--database", database, "serve", "--port", String(port), "--no-background"], {
    HEADROOM_RATE_LIMIT_PER_CALLER: "1000000",
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthy(port, server);
    const start = Date.now() - 86_400_000;
    await openAccounts(base, integration, start);
    const nextBody = eventBodies(start + 1000);
    const headers = { "content-type": "application/json", authorization: `Bearer ${integration}` };
    const flatOut = await autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        {
          method: "POST",
          path: "/v1/events",
          headers,
          setupRequest: (request) => ({ ...request, body: nextBody() }),
        },
      ],
    });
    report(`${name} events x${batch}`, fromAutocannon(flatOut), batch, false);
    const steady = await paced(`${base}/v1/events`, headers, nextBody, pacedEventsPerSecond / batch);
    report(`${name} events paced`, steady, batch, true);
    let r = 0;
    const decisions = await autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${analyst}` },
          setupRequest: (request) => {
            r++;
            return {
              ...request,
              path: `/v1/accounts/${accountId((r * 31) % accounts)}/decisions`,
              body: JSON.stringify({ requestId: `r${r}` }),
            };
          },
        },
      ],
    });
    report(`${name} decide-now`, fromAutocannon(decisions), 0, false);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.on("exit", resolve));
  }
}

console.log(
  `bench/load: ${accounts} accounts, ${seconds} s per run, events in batches of ${batch} (${connections} connections flat out, then paced at ${pacedEventsPerSecond} events/s), loopback`,
);
await onEachStore(values.only, load);
