import { type Deferral, type FeatureState, type Lender, type OpenDue, setLender } from "./features.ts";
import type { EpochMs } from "./time.ts";

/**
 * How a line's feature state is stored: a JSON array of its fields in a fixed order, with times
 * as whole seconds from 2023-11-14 wherever they are whole seconds (nearly always).
 *
 * Ingest writes every line it touches once per transaction, and writing the state as an object
 * took `JSON.stringify` longer than anything else it does per line: every millisecond timestamp
 * is a 13-digit double, which V8 turns into text the slow way, while a small integer takes its
 * fast path. State written by earlier versions (a JSON object) still reads.
 */
export function encodeFeatureState(s: FeatureState): string {
  const dues: (string | number)[] = [];
  for (const d of s.openDues) dues.push(d.id, time(d.dueAt), d.remaining);
  const lenders: (string | number)[] = [];
  for (const name of Object.keys(s.lenders)) {
    const l = s.lenders[name] as Lender;
    lenders.push(name, time(l.openedAt), l.monthlyPayment);
  }
  let deferrals: (string | number)[] | null = null;
  if (s.deferrals !== undefined) {
    deferrals = [];
    for (const d of s.deferrals) deferrals.push(time(d.from), time(d.until), d.programId);
  }
  const encoded: Encoded = [
    FORMAT,
    time(s.openedAt),
    s.declaredIncome,
    s.verifiedIncome,
    s.previousVerifiedIncome,
    s.lastDueAmount,
    dues,
    s.lateDueDates.map(time),
    s.inquiries.map(time),
    lenders,
    s.lenderOpenings.map(time),
    s.loginAnomalies.map(time),
    s.prohibitedUses.map(time),
    s.fraudAt === null ? null : time(s.fraudAt),
    time(s.lastEventAt),
    deferrals,
  ];
  return JSON.stringify(encoded);
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

function time(at: EpochMs): Time {
  const seconds = at / 1000 - TIME_BASE_S;
  if (Number.isInteger(seconds) && Math.abs(seconds) <= SMALL_INTEGER) return seconds;
  return String(at);
}

function epochMs(value: unknown): EpochMs {
  if (typeof value === "number") return (value + TIME_BASE_S) * 1000;
  if (typeof value === "string") return Number(value);
  throw new Error(`feature state: a time must be a number or text, got ${typeof value}`);
}
