import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the background thread moves committed WAL pages into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;
/**
 * The writer's own fallback: were the background thread to stop, the writer checkpoints once the
 * WAL holds this many pages (16 KiB each on files Headroom created; 4 KiB on older ones), so the
 * WAL stays bounded (about 200 MB) either way.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 12_500;

/*
 * Plain CommonJS so that it runs the same under tsx, vitest and node. A PASSIVE checkpoint never
 * waits for the writer or readers: it copies what it can and leaves the rest for the next round.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort.postMessage(String(error));
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/**
 * Commits in WAL mode only append to the WAL; copying those pages into the database file (a
 * checkpoint, with its fsyncs) is the slow part. Done on the writer it stalls every request behind
 * it, so a second thread with its own connection does it while the writer goes on.
 */
export function startWalCheckpointer(file: string): WalCheckpointer {
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: {
      file,
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
  });
  // A failed round is retried by the next; the writer's fallback bounds the WAL meanwhile.
  worker.on("message", () => {});
  worker.on("error", () => {});
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    stop: async () => {
      // Referenced again, or a process with nothing else left to do would end before it stopped.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
