import { type Deferral, type FeatureState, type Lender, type OpenDue, setLender } from "./features.ts";
import type { EpochMs } from "./time.ts";

/**
 * How a line's feature state is stored: a JSON array of its fields in a fixed order, with times
 * as whole seconds from 2023-11-14 wherever they are whole seconds (nearly always).
 *
 * Ingest writes every line it touches once per transaction, and writing the state as an object
 * took `JSON.stringify` longer than anything else it does per line: every millisecond timestamp
 * is a 13-digit double, which V8 turns into text the slow way, while a small integer takes its
 * fast path. The text is built directly rather than through an array for `JSON.stringify`: the
 * same characters in half the time. State written by earlier versions (a JSON object) still reads.
 */
export function encodeFeatureState(s: FeatureState): string {
  let dues = "";
  for (const d of s.openDues) dues += `,${JSON.stringify(d.id)},${time(d.dueAt)},${num(d.remaining)}`;
  let lenders = "";
  for (const name of Object.keys(s.lenders)) {
    const l = s.lenders[name] as Lender;
    lenders += `,${JSON.stringify(name)},${time(l.openedAt)},${num(l.monthlyPayment)}`;
  }
  let deferrals = "null";
  if (s.deferrals !== undefined) {
    deferrals = "";
    for (const d of s.deferrals)
      deferrals += `,${time(d.from)},${time(d.until)},${JSON.stringify(d.programId)}`;
    deferrals = `[${deferrals.slice(1)}]`;
  }
  return (
    `[${FORMAT},${time(s.openedAt)},${num(s.declaredIncome)},${num(s.verifiedIncome)},` +
    `${num(s.previousVerifiedIncome)},${num(s.lastDueAmount)},[${dues.slice(1)}],${times(s.lateDueDates)},` +
    `${times(s.inquiries)},[${lenders.slice(1)}],${times(s.lenderOpenings)},${times(s.loginAnomalies)},` +
    `${times(s.prohibitedUses)},${s.fraudAt === null ? "null" : time(s.fraudAt)},${time(s.lastEventAt)},${deferrals}]`
  );
}

export function decodeFeatureState(text: string): FeatureState {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return value as FeatureState;
  if (value[0] !== FORMAT || value.length !== FIELDS) throw new Error("feature state: unknown format");
  const [
    ,
    openedAt,
    declaredIncome,
    verifiedIncome,
    previousVerifiedIncome,
    lastDueAmount,
    dues,
    lateDueDates,
    inquiries,
    lenders,
    lenderOpenings,
    loginAnomalies,
    prohibitedUses,
    fraudAt,
    lastEventAt,
    deferrals,
  ] = value as Encoded;
  const openDues: OpenDue[] = [];
  for (let i = 0; i < dues.length; i += 3)
    openDues.push({ id: dues[i] as string, dueAt: epochMs(dues[i + 1]), remaining: dues[i + 2] as number });
  const lenderMap: FeatureState["lenders"] = {};
  for (let i = 0; i < lenders.length; i += 3)
    setLender(lenderMap, lenders[i] as string, {
      openedAt: epochMs(lenders[i + 1]),
      monthlyPayment: lenders[i + 2] as number,
    });
  const state: FeatureState = {
    openedAt: epochMs(openedAt),
    declaredIncome,
    verifiedIncome,
    previousVerifiedIncome,
    lastDueAmount,
    openDues,
    lateDueDates: lateDueDates.map(epochMs),
    inquiries: inquiries.map(epochMs),
    lenders: lenderMap,
    lenderOpenings: lenderOpenings.map(epochMs),
    loginAnomalies: loginAnomalies.map(epochMs),
    prohibitedUses: prohibitedUses.map(epochMs),
    fraudAt: fraudAt === null ? null : epochMs(fraudAt),
    lastEventAt: epochMs(lastEventAt),
  };
  if (deferrals !== null) {
    const list: Deferral[] = [];
    for (let i = 0; i < deferrals.length; i += 3)
      list.push({
        from: epochMs(deferrals[i]),
        until: epochMs(deferrals[i + 1]),
        programId: deferrals[i + 2] as string,
      });
    state.deferrals = list;
  }
  return state;
}

const FORMAT = 2;
const FIELDS = 16;

/** A time: seconds from TIME_BASE_S when it is a whole second in small-integer range, else its ms as text. */
type Time = number | string;

type Encoded = [
  format: typeof FORMAT,
  openedAt: Time,
  declaredIncome: number,
  verifiedIncome: number | null,
  previousVerifiedIncome: number | null,
  lastDueAmount: number,
  openDues: (string | number)[],
  lateDueDates: Time[],
  inquiries: Time[],
  lenders: (string | number)[],
  lenderOpenings: Time[],
  loginAnomalies: Time[],
  prohibitedUses: Time[],
  fraudAt: Time | null,
  lastEventAt: Time,
  deferrals: (string | number)[] | null,
];

/** 2023-11-14T22:13:20Z; V8's small integers (31 bits) reach 34 years either side of it. */
const TIME_BASE_S = 1_700_000_000;
const SMALL_INTEGER = 2 ** 30 - 1;

/** A time as JSON text: seconds from TIME_BASE_S when whole and in small-integer range, else its ms as a string. */
function time(at: EpochMs): string {
  const seconds = at / 1000 - TIME_BASE_S;
  if (Number.isInteger(seconds) && Math.abs(seconds) <= SMALL_INTEGER) return String(seconds);
  return `"${at}"`;
}

function times(list: readonly EpochMs[]): string {
  let text = "";
  for (const at of list) text += `,${time(at)}`;
  return `[${text.slice(1)}]`;
}

/** A number as JSON.stringify writes it (no NaN or Infinity in JSON), or null. */
function num(n: number | null): string {
  return n === null || !Number.isFinite(n) ? "null" : String(n);
}

function epochMs(value: unknown): EpochMs {
  if (typeof value === "number") return (value + TIME_BASE_S) * 1000;
  if (typeof value === "string") return Number(value);
  throw new Error(`feature state: a time must be a number or text, got ${typeof value}`);
}
