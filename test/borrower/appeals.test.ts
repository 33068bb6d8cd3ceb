import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkEvidence, EVIDENCE_LIMITS, EvidenceRejected } from "../../src/services/appealEvidence.ts";
import { AppealRefused, decideAppeal, fileAppeal, reviewQueue } from "../../src/services/appeals.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { applyDueActions } from "../../src/services/dueActions.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { ingestEvents } from "../../src/services/ingest.ts";
import { inquiry, lenderOpened, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const REASON = "Bank statements show the new lenders were refinanced into one loan; risk is lower.";

describe("appeal evidence", () => {
  const file = (contentType: string, bytes: Buffer) => ({
    kind: "bank_statement" as const,
    filename: "statement",
    contentType,
    content: bytes.toString("base64"),
  });

  it("keeps the hash, size and type of files whose bytes match their type", () => {
    const [png, csv] = checkEvidence([
      file("image/png", PNG),
      file("text/csv", Buffer.from("date,amount\n2026-01-05,100\n")),
    ]);
    expect(png).toMatchObject({
      contentType: "image/png",
      sizeBytes: PNG.length,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(csv?.sizeBytes).toBe(27);
  });

  it("refuses too many files, oversized, mislabelled, unknown-type and non-base64 files, naming which", () => {
    const refusal = (files: Parameters<typeof checkEvidence>[0]) => {
      try {
        checkEvidence(files);
      } catch (error) {
        if (error instanceof EvidenceRejected)
          return { index: error.index, field: error.field, message: error.message };
        throw error;
      }
      return null;
    };
    expect(
      refusal(Array.from({ length: EVIDENCE_LIMITS.maxFiles + 1 }, () => file("image/png", PNG)))?.message,
    ).toContain("at most");
    const big = Buffer.concat([Buffer.from("%PDF-"), Buffer.alloc(EVIDENCE_LIMITS.maxBytes)]);
    expect(refusal([file("image/png", PNG), file("application/pdf", big)])).toMatchObject({
      index: 1,
      field: "content",
      message: expect.stringContaining("limit"),
    });
    expect(refusal([file("application/pdf", PNG)])).toMatchObject({
      field: "content",
      message: expect.stringContaining("does not look like"),
    });
    expect(refusal([file("application/zip", PNG)])).toMatchObject({ field: "contentType" });
    expect(refusal([{ ...file("image/png", PNG), content: "not base64!" }])).toMatchObject({
      field: "content",
      message: "is not valid base64",
    });
    expect(refusal([file("text/csv", Buffer.from([0x61, 0, 0x62]))])).toMatchObject({ field: "content" });
  });
});

describe("appeals and reviews", () => {
  const clock = manualClock(T0);
  let headroom: Headroom & { dispose(): Promise<void> };

  /** An account whose borrowing from many new lenders draws a noticed halving of its line. */
  async function noticedCut(account: string, at: number): Promise<string> {
    const events = [opened(account, T0, { declaredMonthlyIncome: 2_000_000, borrowerId: `b-${account}` })];
    for (let i = 0; i < 3; i++)
      events.push(lenderOpened(account, `${account}-l${i}`, at - (10 - i) * DAY, `lender-${i}`));
    for (let i = 0; i < 4; i++) events.push(inquiry(account, `${account}-q${i}`, at - (5 - i) * DAY));
    clock.set(at);
    await ingestEvents(headroom, events);
    const cut = await headroom.store.db
      .selectFrom("decisions")
      .select("id")
      .where("account_id", "=", account)
      .where("status", "=", "scheduled")
      .executeTakeFirstOrThrow();
    return cut.id;
  }
  const line = (account: string) =>
    headroom.store.db
      .selectFrom("credit_lines")
      .selectAll()
      .where("account_id", "=", account)
      .executeTakeFirstOrThrow();

  beforeEach(async () => {
    headroom = await sqliteTarget.open(clock.now);
  });
  afterEach(async () => {
    await headroom.dispose();
  });

  it("reverses a cut that already took effect, restoring the limit with a sealed line change", async () => {
    const cutId = await noticedCut("a1", T0 + 30 * DAY);
    clock.set(T0 + 61 * DAY);
    expect(await applyDueActions(headroom)).toEqual({ applied: 1, cancelled: 0 });
    expect((await line("a1")).limit_amount).toBe(1_000_000);
    const appeal = await fileAppeal(headroom, "a1", {
      decisionId: cutId,
      statement: "The three loans were one refinancing; see my bank statement.",
      evidence: [
        {
          kind: "bank_statement",
          filename: "s.png",
          contentType: "image/png",
          content: PNG.toString("base64"),
        },
      ],
      requestId: "r1",
    });
    expect(appeal).toMatchObject({ pausedAction: false, deadlineAt: new Date(T0 + 68 * DAY).toISOString() });
    // A retried request lands on the same appeal; a second appeal on the same decision is refused.
    expect(
      (
        await fileAppeal(headroom, "a1", {
          decisionId: cutId,
          statement: "again, same request",
          evidence: [],
          requestId: "r1",
        })
      ).appealId,
    ).toBe(appeal.appealId);
    await expect(
      fileAppeal(headroom, "a1", {
        decisionId: cutId,
        statement: "a different request",
        evidence: [],
        requestId: "r2",
      }),
    ).rejects.toMatchObject({ status: 409, field: "decisionId" });
    const decided = await decideAppeal(headroom, appeal.appealId, {
      reviewer: "rev-1",
      outcome: "reverse",
      reason: REASON,
    });
    expect(decided).toMatchObject({ status: "reversed", outcomeLimit: 2_000_000 });
    expect(await line("a1")).toMatchObject({ limit_amount: 2_000_000, status: "ACTIVE" });
    const changes = await headroom.store.db
      .selectFrom("line_changes")
      .selectAll()
      .where("account_id", "=", "a1")
      .orderBy("effective_at")
      .execute();
    expect(changes.map((c) => [c.from_limit, c.to_limit])).toEqual([
      [2_000_000, 1_000_000],
      [1_000_000, 2_000_000],
    ]);
    await expect(
      decideAppeal(headroom, appeal.appealId, { reviewer: "rev-2", outcome: "uphold", reason: REASON }),
    ).rejects.toBeInstanceOf(AppealRefused);
    expect((await verifyLedger(headroom.store)).ok).toBe(true);
  });

  it("adjusts a paused cut to a limit in between, and refuses an adjustment outside that range", async () => {
    const cutId = await noticedCut("a1", T0 + 30 * DAY);
    const appeal = await fileAppeal(headroom, "a1", {
      decisionId: cutId,
      statement: "Please cut less than half.",
      evidence: [],
      requestId: "r1",
    });
    expect(appeal.pausedAction).toBe(true);
    await expect(
      decideAppeal(headroom, appeal.appealId, {
        reviewer: "rev-1",
        outcome: "adjust",
        reason: REASON,
        limit: 3_000_000,
      }),
    ).rejects.toMatchObject({ status: 422, field: "limit" });
    const adjusted = await decideAppeal(headroom, appeal.appealId, {
      reviewer: "rev-1",
      outcome: "adjust",
      reason: REASON,
      limit: 1_500_000,
    });
    expect(adjusted).toMatchObject({ status: "adjusted", outcomeLimit: 1_500_000 });
    expect(await line("a1")).toMatchObject({ limit_amount: 1_500_000, pending_action: null });
    clock.set(T0 + 70 * DAY);
    expect(await applyDueActions(headroom)).toEqual({ applied: 0, cancelled: 0 });
    expect((await line("a1")).limit_amount).toBe(1_500_000);
  });

  it("queues open reviews by deadline and refuses appeals on decisions that are not adverse or not the account's", async () => {
    const late = await noticedCut("a1", T0 + 40 * DAY);
    const early = await noticedCut("a2", T0 + 35 * DAY);
    clock.set(T0 + 41 * DAY);
    const first = await fileAppeal(headroom, "a1", {
      decisionId: late,
      statement: "Appeal on the later cut.",
      evidence: [],
      requestId: "x",
    });
    const second = await fileAppeal(headroom, "a2", {
      decisionId: early,
      statement: "Appeal on the earlier cut.",
      evidence: [],
      requestId: "y",
    });
    expect((await reviewQueue(headroom, 10)).map((a) => a.appealId)).toEqual([
      second.appealId,
      first.appealId,
    ]);
    await expect(
      fileAppeal(headroom, "a2", {
        decisionId: late,
        statement: "Not my decision at all.",
        evidence: [],
        requestId: "z",
      }),
    ).rejects.toMatchObject({ status: 404 });
    const favourable = await headroom.store.db
      .selectFrom("decisions")
      .select("id")
      .where("adverse", "=", 0)
      .executeTakeFirstOrThrow();
    const owner = await headroom.store.db
      .selectFrom("decisions")
      .select("account_id")
      .where("id", "=", favourable.id)
      .executeTakeFirstOrThrow();
    await expect(
      fileAppeal(headroom, owner.account_id, {
        decisionId: favourable.id,
        statement: "Nothing adverse here.",
        evidence: [],
        requestId: "w",
      }),
    ).rejects.toMatchObject({ status: 409 });
  });
});
