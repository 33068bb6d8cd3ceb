import type { Logger } from "pino";
import { drainBudgetQueue } from "./budgetQueue.ts";
import { type ChannelSettings, configuredChannels } from "./channels/configured.ts";
import { checkpointLedger } from "./checkpoints.ts";
import { applyDueActions } from "./dueActions.ts";
import { assessOverLimitFees } from "./fees.ts";
import type { Headroom } from "./headroom.ts";
import { deliverDueNotices } from "./notices.ts";
import { runRebuildingPlans } from "./plans.ts";

export interface BackgroundOptions {
  noticeIntervalMs: number;
  dueActionsIntervalMs: number;
  channels: ChannelSettings;
}

/**
 * The serving process's own loops: deliver notices from the outbox and carry out changes whose
 * notice period has run. Each loop waits for its previous pass, so passes never overlap.
 */
export function startBackground(
  headroom: Headroom,
  logger: Logger,
  options: BackgroundOptions,
): () => Promise<void> {
  const channels = configuredChannels(logger, options.channels);
  let stopped = false;
  const running: Promise<void>[] = [];
  const loop = (name: string, intervalMs: number, pass: () => Promise<unknown>) => {
    running.push(
      (async () => {
        while (!stopped) {
          try {
            await pass();
          } catch (error) {
            logger.error({ err: error, loop: name }, "background pass failed; will retry");
          }
          await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
        }
      })(),
    );
  };
  loop("notices", options.noticeIntervalMs, () =>
    deliverDueNotices({ store: headroom.store, clock: headroom.clock, channels }),
  );
  loop("due-actions", options.dueActionsIntervalMs, () => applyDueActions(headroom));
  loop("rebuilding-plans", options.dueActionsIntervalMs, () => runRebuildingPlans(headroom));
  // Cuts, closures and repayments free budget room; waiting increases take it by priority.
  loop("budget-queue", options.dueActionsIntervalMs, () => drainBudgetQueue(headroom));
  loop("ledger-checkpoints", options.dueActionsIntervalMs, () => checkpointLedger(headroom));
  loop("over-limit-fees", options.dueActionsIntervalMs, () => assessOverLimitFees(headroom));
  return async () => {
    stopped = true;
    await Promise.all(running);
  };
}
