import { type Decision, decide } from "../engine/decide.ts";
import { sha256Hex } from "../engine/ledger.ts";
import { policyFromYaml } from "../engine/policy/document.ts";
import { lintMessages, lintPolicy } from "../engine/policy/lint.ts";
import type { Policy } from "../engine/policy.ts";
import type { Store } from "../store/connect.ts";
import type { PolicyDeploymentTable, PolicyVersionTable } from "../store/schema.ts";
import { type ClassMeasureSettings, classMeasuresIn } from "./classMeasures.ts";
import { type ActiveEngine, activeEngine } from "./engineConfig.ts";
import { deterministicId } from "./ids.ts";
import { decisionInput } from "./lineBook.ts";
import { bookLines } from "./lineLoader.ts";

/**
 * The policy lifecycle: import (validated and checked on save), maker-checker approval (the author
 * cannot approve), activation of a champion with an optional challenger share and shadow versions,
 * rollback, diffs with the accounts of the current book that would move, shadow runs and a report
 * comparing the arms.
 */
export type PolicyErrorKind = "invalid" | "not_found" | "conflict" | "forbidden" | "needs_simulation";

export class PolicyVersionError extends Error {
  constructor(
    readonly kind: PolicyErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface PolicyVersionView {
  version: string;
  author: string;
  status: string;
  createdAt: number;
  approvedBy: string | null;
}

function view(row: PolicyVersionTable): PolicyVersionView {
  return {
    version: row.version,
    author: row.author,
    status: row.status,
    createdAt: row.created_at,
    approvedBy: row.approved_by,
  };
}

async function versionRow(store: Store, version: string): Promise<PolicyVersionTable> {
  const row = await store.db
    .selectFrom("policy_versions")
    .selectAll()
    .where("version", "=", version)
    .executeTakeFirst();
  if (row === undefined)
    throw new PolicyVersionError("not_found", `policy version ${version} does not exist`);
  return row;
}

/** Stores a new draft version. The same check as `headroom policy check` runs first: findings refuse it. */
export async function importPolicyVersion(
  store: Store,
  yaml: string,
  author: string,
  now: number,
): Promise<PolicyVersionView> {
  const lint = lintPolicy(yaml);
  if (lint.policy === null || lint.findings.length > 0) {
    throw new PolicyVersionError("invalid", lintMessages("policy", lint).join("\n"));
  }
  const version = lint.policy.version;
  const existing = await store.db
    .selectFrom("policy_versions")
    .select("version")
    .where("version", "=", version)
    .executeTakeFirst();
  if (existing !== undefined)
    throw new PolicyVersionError(
      "conflict",
      `policy version ${version} already exists; versions are immutable`,
    );
  const row: PolicyVersionTable = {
    version,
    yaml,
    author,
    created_at: now,
    status: "draft",
    approved_by: null,
    approved_at: null,
  };
  await store.db.insertInto("policy_versions").values(row).execute();
  return view(row);
}

/** Identifies a policy by its content, so a report can be matched to the exact version it judged. */
export const policyHash = (policy: Policy) => sha256Hex(JSON.stringify(policy));

/**
 * Approval needs a second person and evidence: a simulation of this exact version (same content)
 * over the current book under the measures in force (no what-if), so the approver has seen who it
 * would hit.
 */
export async function approvePolicyVersion(
  store: Store,
  version: string,
  approver: string,
  now: number,
): Promise<PolicyVersionView> {
  const row = await versionRow(store, version);
  if (row.author === approver)
    throw new PolicyVersionError("forbidden", `${approver} wrote ${version} and cannot also approve it`);
  if (row.status !== "draft")
    throw new PolicyVersionError("conflict", `policy version ${version} is already ${row.status}`);
  const report = await store.db
    .selectFrom("simulation_reports")
    .select("id")
    .where("candidate_policy", "=", version)
    .where("mode", "=", "book")
    .where("policy_hash", "=", policyHash(policyFromYaml(row.yaml)))
    // A run under a what-if stress shows whom the version would hit under measures not in force.
    .where("what_if", "is", null)
    .limit(1)
    .executeTakeFirst();
  if (report === undefined)
    throw new PolicyVersionError(
      "needs_simulation",
      `policy version ${version} has no simulation report on the current book; run \`headroom simulate --policy ${version}\` (or POST /v1/simulations) first`,
    );
  await store.db
    .updateTable("policy_versions")
    .set({ status: "approved", approved_by: approver, approved_at: now })
    .where("version", "=", version)
    .execute();
  return view({ ...row, status: "approved", approved_by: approver, approved_at: now });
}

export async function listPolicyVersions(store: Store): Promise<PolicyVersionView[]> {
  const rows = await store.db
    .selectFrom("policy_versions")
    .selectAll()
    .orderBy("created_at")
    .orderBy("version")
    .execute();
  return rows.map(view);
}

export interface Deployment {
  champion: string;
  challenger: string | null;
  challengerShare: number;
  shadows: string[];
  activatedBy: string;
  activatedAt: number;
}

function deploymentView(row: PolicyDeploymentTable): Deployment {
  return {
    champion: row.champion,
    challenger: row.challenger,
    challengerShare: row.challenger_share,
    shadows: JSON.parse(row.shadows) as string[],
    activatedBy: row.activated_by,
    activatedAt: row.activated_at,
  };
}

async function deployments(store: Store, limit: number): Promise<PolicyDeploymentTable[]> {
  return store.db.selectFrom("policy_deployments").selectAll().orderBy("seq", "desc").limit(limit).execute();
}

export async function currentDeployment(store: Store): Promise<Deployment | null> {
  const [row] = await deployments(store, 1);
  return row === undefined ? null : deploymentView(row);
}

async function appendDeployment(
  store: Store,
  d: Omit<Deployment, "activatedBy" | "activatedAt">,
  actor: string,
  now: number,
) {
  const [last] = await deployments(store, 1);
  await store.db
    .insertInto("policy_deployments")
    .values({
      seq: (last === undefined ? 0 : Number(last.seq)) + 1,
      champion: d.champion,
      challenger: d.challenger,
      challenger_share: d.challengerShare,
      shadows: JSON.stringify(d.shadows),
      activated_by: actor,
      activated_at: now,
    })
    .execute();
}

/** Puts approved versions in force: a champion, optionally a challenger for a share of accounts, and shadows. */
export async function activatePolicy(
  store: Store,
  d: { champion: string; challenger?: string | null; challengerShare?: number; shadows?: string[] },
  actor: string,
  now: number,
): Promise<Deployment> {
  const share = d.challenger ? (d.challengerShare ?? 0.1) : 0;
  if (!(share >= 0 && share <= 1))
    throw new PolicyVersionError("invalid", "challengerShare must be between 0 and 1");
  for (const version of [d.champion, d.challenger ?? null, ...(d.shadows ?? [])]) {
    if (version === null) continue;
    const row = await versionRow(store, version);
    if (row.status !== "approved")
      throw new PolicyVersionError("forbidden", `policy version ${version} is ${row.status}, not approved`);
  }
  const deployment = {
    champion: d.champion,
    challenger: d.challenger ?? null,
    challengerShare: share,
    shadows: d.shadows ?? [],
  };
  await appendDeployment(store, deployment, actor, now);
  return (await currentDeployment(store)) as Deployment;
}

/** Puts the deployment before the current one back in force (as a new row: history is kept). */
export async function rollbackPolicy(store: Store, actor: string, now: number): Promise<Deployment> {
  const [, previous] = await deployments(store, 2);
  if (previous === undefined)
    throw new PolicyVersionError("conflict", "there is no earlier deployment to roll back to");
  await appendDeployment(store, deploymentView(previous), actor, now);
  return (await currentDeployment(store)) as Deployment;
}

export async function policyOf(store: Store, version: string): Promise<Policy> {
  return policyFromYaml((await versionRow(store, version)).yaml);
}

/** The engine for the deployment in force, or the shipped default policy when none was activated. */
export async function loadActiveEngine(store: Store): Promise<ActiveEngine> {
  const d = await currentDeployment(store);
  if (d === null) return activeEngine();
  const engine = activeEngine(await policyOf(store, d.champion));
  if (d.challenger !== null)
    engine.challenger = { policy: await policyOf(store, d.challenger), share: d.challengerShare };
  engine.shadows = await Promise.all(d.shadows.map((v) => policyOf(store, v)));
  return engine;
}

/**
 * Puts a newly activated deployment in force in this process. The engine object is updated in
 * place because the intake, the review job and the API all hold the same reference.
 */
export async function reloadEngine(store: Store, engine: ActiveEngine): Promise<void> {
  const next = await loadActiveEngine(store);
  Object.assign(engine, { challenger: undefined, shadows: undefined }, next);
}

export interface PolicyDiff {
  from: string;
  to: string;
  rules: { added: string[]; removed: string[]; changed: string[] };
  tiersChanged: boolean;
  limitFormulaChanged: boolean;
  guardrailsChanged: string[];
  /**
   * The class-wide measures in force both versions decided under, as live decisions read them:
   * the accounts that move differ by the versions alone.
   */
  measures: ClassMeasureSettings;
  /** Accounts in the current book whose decision now would differ (action or new limit). */
  accounts: number;
  moved: number;
  movedByTransition: Record<string, number>;
  sample: { accountId: string; from: string; to: string }[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const outcome = (d: Decision) => (d.action === "none" ? "none" : `${d.action}:${d.toLimit}`);

export async function diffPolicyVersions(
  store: Store,
  from: string,
  to: string,
  now: number,
): Promise<PolicyDiff> {
  const [a, b] = [await policyOf(store, from), await policyOf(store, to)];
  const ruleIds = (p: Policy) => new Map(p.rules.map((r) => [r.id, r]));
  const [ra, rb] = [ruleIds(a), ruleIds(b)];
  const engine = activeEngine(a);
  const ctxB = { policy: b, scorer: engine.scorer };
  const measures = await classMeasuresIn(store.db);
  const diff: PolicyDiff = {
    from,
    to,
    rules: {
      added: [...rb.keys()].filter((id) => !ra.has(id)),
      removed: [...ra.keys()].filter((id) => !rb.has(id)),
      changed: [...rb.keys()].filter((id) => ra.has(id) && !same(ra.get(id), rb.get(id))),
    },
    tiersChanged: !same(a.tiers, b.tiers),
    limitFormulaChanged: !same(a.limit, b.limit),
    guardrailsChanged: Object.keys(b.guardrails).filter(
      (k) =>
        !same(a.guardrails[k as keyof Policy["guardrails"]], b.guardrails[k as keyof Policy["guardrails"]]),
    ),
    measures,
    accounts: 0,
    moved: 0,
    movedByTransition: {},
    sample: [],
  };
  for await (const line of bookLines(store)) {
    const input = decisionInput(line, { kind: "analyst", actor: `diff:${from}..${to}` }, now, measures);
    const [da, db] = [decide(input, engine, now), decide(input, ctxB, now)];
    diff.accounts++;
    if (outcome(da) === outcome(db)) continue;
    diff.moved++;
    const key = `${da.action} -> ${db.action}`;
    diff.movedByTransition[key] = (diff.movedByTransition[key] ?? 0) + 1;
    if (diff.sample.length < 20)
      diff.sample.push({ accountId: input.accountId, from: outcome(da), to: outcome(db) });
  }
  return diff;
}

/**
 * Decides the whole book under every shadow version and records what they would have done, under
 * the class-wide measures in force as live decisions are: a shadow differs from the acted arm by
 * its policy alone.
 */
export async function runShadows(
  store: Store,
  engine: ActiveEngine,
  runId: string,
  now: number,
): Promise<number> {
  let recorded = 0;
  const shadows = engine.shadows ?? [];
  if (shadows.length === 0) return 0;
  let rows: import("../store/schema.ts").ShadowDecisionTable[] = [];
  const flush = async () => {
    if (rows.length > 0)
      await store.db
        .insertInto("shadow_decisions")
        .values(rows)
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
    recorded += rows.length;
    rows = [];
  };
  const measures = await classMeasuresIn(store.db);
  for await (const line of bookLines(store)) {
    const input = decisionInput(line, { kind: "review", runId }, now, measures);
    for (const policy of shadows) {
      const d = decide(input, { policy, scorer: engine.scorer }, now);
      rows.push({
        id: deterministicId("shd", `${runId}:${policy.version}:${input.accountId}`),
        account_id: input.accountId,
        policy_version: policy.version,
        run_id: runId,
        action: d.action,
        rule_id: d.ruleId,
        from_limit: d.fromLimit,
        to_limit: d.toLimit,
        decided_at: now,
        class_wide: d.classWide === undefined ? 0 : 1,
      });
      if (rows.length >= 200) await flush();
    }
  }
  await flush();
  return recorded;
}

export interface ArmReport {
  policyVersion: string;
  arm: "acted" | "shadow";
  decisions: number;
  adverse: number;
  byAction: Record<string, number>;
  /** Sum of limit changes (fen) the decisions made or would have made. */
  limitChange: number;
  /** Decisions the class-wide measures made (without them: not taken, or not as far). */
  byMeasures: number;
}

/** Compares the arms: decisions recorded per policy version, acted on and shadow. */
export async function compareArms(store: Store): Promise<ArmReport[]> {
  const acted = await store.db
    .selectFrom("decisions")
    .select((eb) => [
      "policy_version",
      "action",
      eb.fn.countAll<number>().as("n"),
      eb.fn.sum<number>(eb("to_limit", "-", eb.ref("from_limit"))).as("change"),
      // A decision's output names the measures only when they made it (decide.ts: classWide).
      eb.fn
        .sum<number>(eb.case().when("output", "like", '%"classWide":{%').then(1).else(0).end())
        .as("measured"),
    ])
    .groupBy(["policy_version", "action"])
    .execute();
  const shadow = await store.db
    .selectFrom("shadow_decisions")
    .select((eb) => [
      "policy_version",
      "action",
      eb.fn.countAll<number>().as("n"),
      eb.fn.sum<number>(eb("to_limit", "-", eb.ref("from_limit"))).as("change"),
      eb.fn.sum<number>("class_wide").as("measured"),
    ])
    .groupBy(["policy_version", "action"])
    .execute();
  const reports = new Map<string, ArmReport>();
  const add = (
    arm: ArmReport["arm"],
    r: { policy_version: string; action: string; n: number; change: number | null; measured: number | null },
  ) => {
    const key = `${arm}:${r.policy_version}`;
    let report = reports.get(key);
    if (report === undefined) {
      report = {
        policyVersion: r.policy_version,
        arm,
        decisions: 0,
        adverse: 0,
        byAction: {},
        limitChange: 0,
        byMeasures: 0,
      };
      reports.set(key, report);
    }
    const n = Number(r.n);
    report.decisions += n;
    report.byAction[r.action] = (report.byAction[r.action] ?? 0) + n;
    if (r.action === "decrease" || r.action === "freeze" || r.action === "close") report.adverse += n;
    report.limitChange += Number(r.change ?? 0);
    report.byMeasures += Number(r.measured ?? 0);
  };
  for (const r of acted) add("acted", r);
  for (const r of shadow) add("shadow", r);
  return [...reports.values()];
}
