import type { Headroom } from "../../src/services/headroom.ts";
import { approvePolicyVersion, importPolicyVersion } from "../../src/services/policyVersions.ts";
import { runSimulation } from "../../src/services/simulationRun.ts";

/**
 * A policy version ready to activate: imported by alice, simulated over the book (the approver's
 * evidence) and approved by bob.
 */
export async function approvedVersion(headroom: Headroom, yaml: string, now: number) {
  const v = await importPolicyVersion(headroom.store, yaml, "alice", now);
  await runSimulation(headroom, { policy: v.version, by: "alice" });
  return approvePolicyVersion(headroom.store, v.version, "bob", now);
}
