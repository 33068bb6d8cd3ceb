import type { Logger } from "pino";
import { logChannel, type NoticeChannel, webhookChannel } from "../notices.ts";
import { signedWebhookChannel } from "./webhook.ts";

export interface ChannelSettings {
  webhookUrl?: string;
  /** With a secret, webhook notices are signed (HMAC-SHA256 over timestamp and body). */
  webhookSecret?: string;
}

/** The channels a process delivers through: always the log, and the webhook when configured. */
export function configuredChannels(logger: Logger, settings: ChannelSettings): NoticeChannel[] {
  const channels: NoticeChannel[] = [logChannel(logger)];
  if (settings.webhookUrl !== undefined)
    channels.push(
      settings.webhookSecret === undefined
        ? webhookChannel(settings.webhookUrl)
        : signedWebhookChannel(settings.webhookUrl, settings.webhookSecret),
    );
  return channels;
}

export function channelSettingsFromEnv(): ChannelSettings {
  return {
    webhookUrl: process.env.HEADROOM_WEBHOOK_URL,
    webhookSecret: process.env.HEADROOM_WEBHOOK_SECRET,
  };
}
