import { z } from "zod";
import { MAX_TERM_MONTHS, REPAYMENT_METHODS } from "./pricing/schedule.ts";

/**
 * The typed events Headroom takes in, one schema for HTTP, NATS and the demo generator.
 * Amounts are integer fen; times are ISO-8601 instants.
 */
const fen = z.number().int().nonnegative().max(1e13);
const positiveFen = z.number().int().positive().max(1e13);
const id = z.string().min(1).max(128);
const instant = z.iso.datetime({ offset: true });

export const PROHIBITED_PURPOSES = ["securities", "real_estate_down_payment", "gambling", "crypto"] as const;
export const LOAN_PURPOSES = [
  "consumption",
  "education",
  "medical",
  "travel",
  "home_improvement",
  "business",
  ...PROHIBITED_PURPOSES,
] as const;
export const REGIONS = ["east", "north", "south", "central", "west", "northeast"] as const;
export const SEGMENTS = ["salaried", "self_employed", "student", "retired", "gig"] as const;

const envelope = { id, accountId: id, occurredAt: instant };

export const accountOpenedEvent = z.object({
  ...envelope,
  type: z.literal("account_opened"),
  data: z.object({
    borrowerId: id,
    region: z.enum(REGIONS),
    segment: z.enum(SEGMENTS),
    declaredMonthlyIncome: fen,
    initialLimit: fen,
    consentBureau: z.boolean(),
    optOutAutomated: z.boolean().default(false),
  }),
});
export const repaymentDueEvent = z.object({
  ...envelope,
  type: z.literal("repayment_due"),
  data: z.object({ dueId: id, amount: positiveFen, dueAt: instant }),
});
export const repaymentMadeEvent = z.object({
  ...envelope,
  type: z.literal("repayment_made"),
  data: z.object({ dueId: id.optional(), amount: positiveFen }),
});
export const drawdownEvent = z.object({
  ...envelope,
  type: z.literal("drawdown"),
  data: z.object({
    drawdownId: id,
    amount: positiveFen,
    purpose: z.enum(LOAN_PURPOSES),
    termMonths: z.number().int().min(1).max(MAX_TERM_MONTHS).default(12),
    repayment: z.enum(REPAYMENT_METHODS).default("equal_instalment"),
  }),
});
/** Why Headroom may use a borrower's bureau data; every bureau event must say which applies. */
export const BUREAU_DATA_PURPOSES = ["line_management", "collections", "fraud_prevention"] as const;
/**
 * The consent a bureau record was obtained under and the purpose it is used for. Optional in the
 * schema (recourse projects bureau events of its own); ingest refuses bureau events without it.
 */
const bureauConsent = z
  .object({ consentId: id, purpose: z.enum(BUREAU_DATA_PURPOSES) })
  .describe("the borrower's consent this bureau record was obtained under, and the purpose it is used for");
export const bureauInquiryEvent = z.object({
  ...envelope,
  type: z.literal("bureau_inquiry"),
  data: z.object({
    lender: id,
    purpose: z.string().max(64).default("credit_application"),
    consent: bureauConsent.optional(),
  }),
});
export const externalLoanOpenedEvent = z.object({
  ...envelope,
  type: z.literal("external_loan_opened"),
  data: z.object({ lender: id, amount: positiveFen, monthlyPayment: fen, consent: bureauConsent.optional() }),
});
export const externalLoanClosedEvent = z.object({
  ...envelope,
  type: z.literal("external_loan_closed"),
  data: z.object({ lender: id, consent: bureauConsent.optional() }),
});
export const incomeVerifiedEvent = z.object({
  ...envelope,
  type: z.literal("income_verified"),
  data: z.object({ monthlyIncome: fen, source: z.string().min(1).max(64) }),
});
export const loginEvent = z.object({
  ...envelope,
  type: z.literal("login"),
  data: z.object({ deviceId: id, anomalous: z.boolean().default(false) }),
});
export const transactionEvent = z.object({
  ...envelope,
  type: z.literal("transaction"),
  data: z.object({ amount: positiveFen, category: z.string().min(1).max(64) }),
});
export const fraudReportedEvent = z.object({
  ...envelope,
  type: z.literal("fraud_reported"),
  data: z.object({ source: z.string().min(1).max(64) }),
});

export const creditEvent = z.discriminatedUnion("type", [
  accountOpenedEvent,
  repaymentDueEvent,
  repaymentMadeEvent,
  drawdownEvent,
  bureauInquiryEvent,
  externalLoanOpenedEvent,
  externalLoanClosedEvent,
  incomeVerifiedEvent,
  loginEvent,
  transactionEvent,
  fraudReportedEvent,
]);

export type CreditEvent = z.infer<typeof creditEvent>;
export type CreditEventType = CreditEvent["type"];
export type Region = (typeof REGIONS)[number];
export type Segment = (typeof SEGMENTS)[number];
export type LoanPurpose = (typeof LOAN_PURPOSES)[number];

export const MAX_EVENTS_PER_BATCH = 1000;

/** The regulatory default list, for callers without a policy's own list (Policy.prohibitedPurposes). */
export const DEFAULT_PROHIBITED: ReadonlySet<string> = new Set(PROHIBITED_PURPOSES);

export function isProhibitedPurpose(
  purpose: string,
  prohibited: ReadonlySet<string> = DEFAULT_PROHIBITED,
): boolean {
  return prohibited.has(purpose);
}
