import { SingleBar } from "cli-progress";
import pino from "pino";
import { collectDefaultMetrics } from "prom-client";
import { rateLimitsFromEnv } from "../api/rateLimits.ts";
import { buildServer } from "../api/server.ts";
import { isoDate } from "../engine/time.ts";
import { verifyLedger } from "../services/audit.ts";
import { startBackground } from "../services/background.ts";
import { channelSettingsFromEnv, configuredChannels } from "../services/channels/configured.ts";
import { checkpointLedger } from "../services/checkpoints.ts";
import { seedDemoPersonalData } from "../services/demo/demoPersonalData.ts";
import { loginHelp, seedDemoLogins } from "../services/demo/demoUsers.ts";
import { seedDemo } from "../services/demo/seedDemo.ts";
import { applyDueActions } from "../services/dueActions.ts";
import { assessOverLimitFees } from "../services/fees.ts";
import { type Headroom, openHeadroom } from "../services/headroom.ts";
import { deliverDueNotices } from "../services/notices.ts";
import { runRebuildingPlans } from "../services/plans.ts";
import { runReview } from "../services/review.ts";

type Options = Record<string, unknown>;

function bar(label: string): SingleBar {
  return new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration}s`,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    stream: process.stderr,
  });
}

/** Seeds the demo book and its logins; prints how to log in. */
async function demo(
  headroom: Headroom,
  borrowers: number,
  months: number,
  seed: number,
  base = "http://127.0.0.1:8080",
): Promise<void> {
  const progress = bar("demo");
  let phase = "";
  const started = performance.now();
  const result = await seedDemo(headroom, { borrowers, months, seed, end: headroom.clock() }, (p) => {
    if (p.phase !== phase) {
      if (phase !== "") progress.stop();
      phase = p.phase;
      progress.start(p.total, 0);
    }
    progress.update(p.done);
  });
  progress.stop();
  const due = await applyDueActions(headroom);
  await seedDemoPersonalData(headroom);
  await checkpointLedger(headroom, { partial: true });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `demo: ${borrowers} borrowers from ${result.source} rows, ${result.events} events, ${result.decisions} decisions ` +
      `in ${seconds.toFixed(1)} s; ${due.applied} noticed changes took effect\n`,
  );
  process.stdout.write(loginHelp(await seedDemoLogins(headroom), base));
}

async function serve(headroom: Headroom, host: string, port: number, background = true): Promise<void> {
  const logger = pino({ level: process.env.HEADROOM_LOG_LEVEL ?? "info" });
  const app = await buildServer(headroom, { logger: true, rateLimits: rateLimitsFromEnv() });
  collectDefaultMetrics({ register: headroom.metrics.registry });
  // Listen first: a backlog the background loops start on (a fresh demo's notices, the ledger's
  // first checkpoints) must not keep the API from answering.
  await app.listen({ host, port });
  const stopBackground = background
    ? startBackground(headroom, logger, {
        noticeIntervalMs: 1000,
        dueActionsIntervalMs: 60_000,
        channels: channelSettingsFromEnv(),
      })
    : async () => {};
  const shutdown = async () => {
    await app.close();
    await stopBackground();
    await headroom.close();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

/**
 * The notice worker: delivers the outbox until stopped. It may be killed at any point; a notice
 * is marked per channel only after that channel took it, so a restart resends nothing delivered.
 */
async function noticeWorker(headroom: Headroom, intervalMs: number): Promise<void> {
  const logger = pino({ level: process.env.HEADROOM_LOG_LEVEL ?? "info" });
  const channels = configuredChannels(logger, channelSettingsFromEnv());
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  while (!stopped) {
    try {
      const { delivered, failed } = await deliverDueNotices({
        store: headroom.store,
        clock: headroom.clock,
        channels,
      });
      if (delivered + failed > 0) logger.info({ delivered, failed }, "notice pass");
    } catch (error) {
      logger.error({ err: error }, "notice pass failed; will retry");
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await headroom.close();
}

export async function runCli(command: string, global: Options, opts: Options): Promise<void> {
  const headroom = await openHeadroom({ databaseUrl: global.database as string | undefined });
  let keepOpen = false;
  try {
    switch (command) {
      case "serve":
        keepOpen = true;
        await serve(headroom, opts.host as string, opts.port as number, opts.background !== false);
        process.stdout.write(`Headroom is serving on http://${opts.host}:${opts.port}\n`);
        break;
      case "start": {
        const existing = await headroom.store.db
          .selectFrom("credit_lines")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        if (Number(existing.n) === 0)
          await demo(
            headroom,
            opts.borrowers as number,
            opts.months as number,
            42,
            `http://${opts.host}:${opts.port}`,
          );
        else
          process.stdout.write(
            `store ${headroom.store.location} already holds ${existing.n} accounts; serving them\n` +
              `log in as the demo users (admin, analyst, ...) with their password, or create a key: headroom keys create --role admin --name me\n`,
          );
        keepOpen = true;
        await serve(headroom, opts.host as string, opts.port as number);
        process.stdout.write(
          `Headroom is serving on http://${opts.host}:${opts.port} (console at /, API under /v1)\n`,
        );
        break;
      }
      case "demo":
        await demo(headroom, opts.borrowers as number, opts.months as number, opts.seed as number);
        break;
      case "review": {
        const runId = (opts.runId as string | undefined) ?? `review-${isoDate(headroom.clock())}`;
        const total = await headroom.store.db
          .selectFrom("credit_lines")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("status", "!=", "CLOSED")
          .executeTakeFirstOrThrow();
        const progress = bar(`review ${runId}`);
        progress.start(Number(total.n), 0);
        const result = await runReview(headroom, runId, (p) => progress.update(p.reviewed));
        progress.stop();
        const due = await applyDueActions(headroom);
        const plans = await runRebuildingPlans(headroom);
        process.stdout.write(
          `review ${runId}: ${result.reviewed} accounts reviewed in this pass, ${result.changed} decisions that change a line; ` +
            `${due.applied} noticed changes took effect; ${plans.opened} rebuilding plans opened, ${plans.reopened} lines reopened on a met plan\n`,
        );
        break;
      }
      case "notices":
        keepOpen = true;
        await noticeWorker(headroom, opts.interval as number);
        break;
      case "apply-due": {
        const due = await applyDueActions(headroom);
        process.stdout.write(`${due.applied} changes took effect, ${due.cancelled} cancelled\n`);
        break;
      }
      case "audit-checkpoint": {
        const written = await checkpointLedger(headroom, { partial: true });
        process.stdout.write(`${written} checkpoint(s) sealed\n`);
        break;
      }
      case "fees": {
        const fees = await assessOverLimitFees(headroom);
        process.stdout.write(
          `${fees.charged} over-limit fees charged, ${fees.heldForCutNotice} held in the grace period after a cut's notice\n`,
        );
        break;
      }
      case "audit-verify": {
        const report = await verifyLedger(headroom.store);
        if (report.ok) {
          process.stdout.write(
            `ledger ok: ${report.entries} entries verified, head at row ${report.headSeq}\n`,
          );
        } else {
          for (const p of report.problems) {
            process.stdout.write(
              `BROKEN ${p.seq === null ? "" : `row ${p.seq} `}${p.refId === null ? "" : `(${p.refId}) `}${p.problem}\n`,
            );
          }
          process.stdout.write(`ledger verification FAILED: ${report.problems.length} problem(s)\n`);
          process.exitCode = 1;
        }
        break;
      }
      default:
        throw new Error(`unknown command ${command}`);
    }
  } finally {
    if (!keepOpen) await headroom.close();
  }
}
