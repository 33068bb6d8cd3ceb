import { readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds a process (or one of its threads: `thread`) has used so far, from Linux /proc; null
 * elsewhere. Under other load the wall figures swing; CPU per event barely does, so it is the
 * figure to compare changes by.
 */
export function cpuSeconds(pid: number | undefined, thread?: number): number | null {
  try {
    const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
    const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
