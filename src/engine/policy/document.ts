import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { creditEvent, REGIONS } from "../events.ts";
import type { ComparisonOp, Condition, FactName, Policy } from "../policy.ts";
import { HARD_LINE_CAP } from "../policy.ts";
import { ADVERSE_ACTIONS, canGiveReasons, FACT_NAMES } from "./domain.ts";

/**
 * The policy document: YAML validated by a zod schema. Errors name the line and column of the
 * offending node, so an analyst can fix a policy without reading a stack trace.
 */
const OPS: readonly ComparisonOp[] = [">=", "<=", "==", "!=", ">", "<"];
const CONDITION_TEXT = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

const factName = z.enum(FACT_NAMES as [FactName, ...FactName[]]);
/** A condition as written in policies (and hardship eligibility): "fact op number" or an object. */
export const condition = z.union([
  z.string().transform((text, ctx): Condition => {
    const m = CONDITION_TEXT.exec(text);
    const fact = m?.[1];
    if (m === null || fact === undefined || !(FACT_NAMES as readonly string[]).includes(fact)) {
      ctx.addIssue({
        code: "custom",
        message: `"${text}" is not "fact op number" with a known fact (${FACT_NAMES.join(", ")})`,
      });
      return z.NEVER;
    }
    return { fact: fact as FactName, op: m[2] as ComparisonOp, value: Number(m[3]) };
  }),
  z.object({ fact: factName, op: z.enum(OPS as [ComparisonOp, ...ComparisonOp[]]), value: z.number() }),
]);

const fen = z.number().int().nonnegative();
const bps = z.number().int().min(0).max(10_000);
const share = z.number().min(0).max(1);
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "ids are letters, digits, - _ .");

const tierRow = z.object({
  id,
  when: z.array(condition),
  maxLimit: fen.max(HARD_LINE_CAP),
  incomeMultiple: z.number().positive().max(100),
});

const rule = z
  .object({
    id,
    description: z.string().min(1),
    when: z.array(condition).min(1),
    action: z.enum(["increase", "decrease", "freeze", "close", "reopen"]),
    urgency: z.enum(["urgent", "notice", "favourable"]),
    noticeDays: z.number().int().min(1).max(365).optional(),
    limit: z.union([
      z.literal("target").transform(() => ({ kind: "target" as const })),
      z.literal("keep").transform(() => ({ kind: "keep" as const })),
      z
        .object({ factor: z.number().positive().max(10) })
        .transform((f) => ({ kind: "factor" as const, ...f })),
    ]),
    recall: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.noticeDays !== undefined && r.urgency !== "notice")
      ctx.addIssue({ code: "custom", path: ["noticeDays"], message: "noticeDays needs urgency: notice" });
    if (r.recall === true && r.action !== "freeze")
      ctx.addIssue({ code: "custom", path: ["recall"], message: "only a freeze can recall the loan" });
    if (ADVERSE_ACTIONS.has(r.action) && !canGiveReasons(r))
      ctx.addIssue({
        code: "custom",
        path: ["when"],
        message:
          "an adverse rule needs a condition that gives the borrower a reason (a feature against them, score or targetGap)",
      });
    if (r.action === "decrease" && r.urgency === "favourable")
      ctx.addIssue({ code: "custom", path: ["urgency"], message: "a decrease is never favourable" });
  });

const eventType = z.enum(creditEvent.options.map((o) => o.shape.type.value) as [string, ...string[]]);

export const policyDocument = z
  .object({
    version: id,
    tiers: z.object({ hitPolicy: z.enum(["first", "collect"]), rows: z.array(tierRow).min(1) }),
    limit: z.object({ regionFactors: z.partialRecord(z.enum(REGIONS), z.number().positive().max(2)) }),
    rules: z.array(rule).min(1),
    guardrails: z.object({
      minDaysBetweenChanges: z.number().int().min(1).max(365),
      maxCutPer30d: share,
      hysteresis: share,
      maxIncreaseRatio: z.number().positive().max(10),
      lineCap: fen.max(HARD_LINE_CAP, `the consumer line cap is at most ${HARD_LINE_CAP} fen`),
      noticeDays: z.number().int().min(1).max(365),
      maxDebtToIncomeAfterIncrease: share,
      minimumPaymentRate: z.number().positive().max(1),
      phaseInMaxChange: share,
    }),
    triggers: z.array(eventType),
    prohibitedPurposes: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "purposes are lower_snake_case names"))
      .optional(),
    // Annual rates in basis points; the product's legal floor and ceiling bound whatever is set here.
    pricing: z
      .object({
        tierRates: z.record(id, bps),
        adjustments: z.array(
          z.object({
            id,
            description: z.string().min(1),
            when: z.array(condition).min(1),
            delta: z.number().int().min(-10_000).max(10_000),
          }),
        ),
      })
      .optional(),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Map<string, number>();
    doc.rules.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: "custom", path: ["rules", i, "id"], message: `duplicate rule id ${r.id}` });
      seen.set(r.id, i);
    });
    if (doc.pricing !== undefined)
      doc.tiers.rows.forEach((row, i) => {
        if (doc.pricing?.tierRates[row.id] === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["pricing", "tierRates"],
            message: `tier ${row.id} (tiers.rows.${i}) has no rate`,
          });
      });
    doc.tiers.rows.forEach((row, i) => {
      row.when.forEach((c, j) => {
        if (c.fact === "targetGap")
          ctx.addIssue({
            code: "custom",
            path: ["tiers", "rows", i, "when", j],
            message: "a tier cannot depend on targetGap: the target depends on the tier",
          });
      });
    });
  });

export interface PolicyProblem {
  /** Path into the document, e.g. rules.3.when.0 */
  path: string;
  line: number;
  column: number;
  message: string;
}

/** Line and column (1-based) of the node at a dotted path such as rules.3, or its nearest parent. */
export function locate(text: string, path: string): { line: number; column: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  let keys: (string | number)[] =
    path === "" ? [] : path.split(".").map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
  while (!isNode(node) && keys.length > 0) {
    keys = keys.slice(0, -1);
    node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
  }
  const at = lineCounter.linePos(isNode(node) && node.range ? node.range[0] : 0);
  return { line: at.line, column: at.col };
}

export type ParsedPolicy = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };

/** Parses and validates a policy document; every problem carries its line and column (1-based). */
export function parsePolicyYaml(text: string): ParsedPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return { path: "", line: at.line, column: at.col, message: e.message.split("\n")[0] ?? e.code };
      }),
    };
  }
  const result = policyDocument.safeParse(doc.toJS());
  if (result.success) return { ok: true, policy: result.data as Policy };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      // The deepest node that exists: a missing key is reported at its parent.
      let path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
      let node = doc.getIn(path, true);
      while (!isNode(node) && path.length > 0) {
        path = path.slice(0, -1);
        node = path.length === 0 ? doc.contents : doc.getIn(path, true);
      }
      const offset = isNode(node) && node.range ? node.range[0] : 0;
      const at = lineCounter.linePos(offset);
      return { path: issue.path.join("."), line: at.line, column: at.col, message: issue.message };
    }),
  };
}

/** Parses a policy document known to be valid (shipped or stored after validation); throws otherwise. */
export function policyFromYaml(text: string): Policy {
  const parsed = parsePolicyYaml(text);
  if (!parsed.ok) {
    const first = parsed.problems[0];
    throw new Error(`invalid policy: line ${first?.line}:${first?.column} ${first?.path} ${first?.message}`);
  }
  return parsed.policy;
}
