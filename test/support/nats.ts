import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_NATS_URL } from "../../src/stream/jetstream.ts";

export const NATS_URL = process.env.HEADROOM_TEST_NATS_URL ?? DEFAULT_NATS_URL;

/** A connection to the local NATS server with JetStream, or why there is none. */
export async function natsConnection(): Promise<{ nc: NatsConnection } | { nc: null; reason: string }> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2000, name: "headroom-test" });
    return { nc };
  } catch (error) {
    return { nc: null, reason: `NATS at ${NATS_URL} is not reachable: ${String(error)}` };
  }
}

/** A stream name no other run uses, so parallel test runs never share partitions or consumers. */
export function freshStreamName(): string {
  return `HRT_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
}
