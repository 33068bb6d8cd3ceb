import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.ts";
import { readFeatures } from "../../src/engine/features.ts";
import { applyRelief } from "../../src/engine/pricing/relief.ts";
import { buildSchedule } from "../../src/engine/pricing/schedule.ts";
import { verifyLedger } from "../../src/services/audit.ts";
import { renderNotice } from "../../src/services/channels/templates.ts";
import type { Headroom } from "../../src/services/headroom.ts";
import { loadLines } from "../../src/services/lineLoader.ts";
import { type Inject, injectAs } from "../support/auth.ts";
import { drawdown, due, iso, opened } from "../support/events.ts";
import { manualClock, sqliteTarget } from "../support/stores.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

describe("relief on a schedule", () => {
  it("repays exactly the balance still owed, whatever the relief and whenever it is taken", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 5_000_000 }),
        fc.integer({ min: 0, max: 2400 }),
        fc.integer({ min: 2, max: 36 }),
        fc.integer({ min: 0, max: 40 }),
        fc.oneof(
          fc.record({
            kind: fc.constant("payment_holiday" as const),
            months: fc.integer({ min: 1, max: 6 }),
          }),
          fc.record({ kind: fc.constant("rate_reduction" as const), cut: fc.integer({ min: 1, max: 2400 }) }),
          fc.record({
            kind: fc.constant("term_extension" as const),
            months: fc.integer({ min: 1, max: 24 }),
          }),
        ),
        (principal, rate, months, takenAfter, relief) => {
          const drawnAt = T0;
          const original = buildSchedule({
            principal,
            annualRate: rate,
            months,
            method: "equal_instalment",
            drawnAt,
          });
          const at = drawnAt + takenAfter * 30 * DAY + DAY;
          const relieved = applyRelief(
            { instalments: original.instalments, annualRate: rate, method: "equal_instalment", drawnAt },
            relief,
            at,
          );
          const kept = original.instalments.filter((i) => i.dueAt < at);
          expect(relieved.slice(0, kept.length)).toEqual(kept);
          expect(relieved.reduce((t, i) => t + i.principal, 0)).toBe(principal);
          expect(relieved.at(-1)?.balanceAfter).toBe(0);
          const later = relieved.slice(kept.length);
          if (relief.kind === "payment_holiday") expect(later.every((i) => i.dueAt > at)).toBe(true);
          if (relief.kind === "rate_reduction" && later.length > 0) {
            const before = original.instalments.slice(kept.length).reduce((t, i) => t + i.interest, 0);
            // A lower rate never costs more, but for rounding of at most a fen per instalment.
            expect(later.reduce((t, i) => t + i.interest, 0)).toBeLessThanOrEqual(before + later.length);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("hardship programs", () => {
  let headroom: Headroom & { dispose(): Promise<void> };
  let app: FastifyInstance;
  let inject: Inject;
  const clock = manualClock(T0);
  beforeEach(async () => {
    clock.set(T0 + 40 * DAY);
    headroom = await sqliteTarget.open(clock.now);
    app = await buildServer(headroom);
    inject = await injectAs(app, headroom);
  });
  afterEach(async () => {
    await app.close();
    await headroom.dispose();
  });

  const post = (url: string, payload: Record<string, unknown>) => inject({ method: "POST", url, payload });
  const program = {
    id: "storm-2026",
    name: "Flood relief, north",
    relief: { kind: "payment_holiday", months: 3 },
    region: "north",
    startsAt: iso(T0),
    endsAt: iso(T0 + 200 * DAY),
    reason: "floods in the north: relief instead of cuts",
  };

  it("offers relief to the region, and an accepted holiday moves instalments and keeps deferred dues from counting as overdue", async () => {
    await post("/v1/events", {
      events: [
        opened("n1", T0, { region: "north" }),
        opened("n2", T0, { region: "north" }),
        opened("s1", T0, { region: "south" }),
        drawdown("n1", "d1", T0 + DAY, 600_000),
      ],
    });
    const offered = await post("/v1/hardship-programs", program);
    expect(offered.statusCode).toBe(201);
    expect(offered.json()).toEqual({ programId: "storm-2026", offered: 2 });
    expect((await inject({ method: "GET", url: "/v1/accounts/s1/hardship-offers" })).json().offers).toEqual(
      [],
    );

    const accepted = await post("/v1/accounts/n1/hardship-offers/storm-2026", { accept: true });
    expect(accepted.json()).toEqual({ status: "accepted", rescheduled: 1 });
    const again = await post("/v1/accounts/n1/hardship-offers/storm-2026", { accept: false });
    expect(again.statusCode).toBe(409);
    expect((await post("/v1/accounts/n2/hardship-offers/storm-2026", { accept: false })).json().status).toBe(
      "declined",
    );

    // The borrower is told what the relief is, in their language, when offered and when it starts.
    const notices = await headroom.store.db
      .selectFrom("outbox")
      .select(["kind", "payload"])
      .where("account_id", "=", "n1")
      .where("kind", "like", "hardship_%")
      .orderBy("created_at")
      .execute();
    expect(notices.map((n) => n.kind)).toEqual(["hardship_offer", "hardship_accepted"]);
    const [offer, started] = notices.map((n) => ({
      en: renderNotice(n.payload, "en"),
      zh: renderNotice(n.payload, "zh-CN"),
    }));
    expect(offer?.en.subject).toBe("Relief you can take");
    expect(offer?.en.text).toContain('"Flood relief, north": no repayments for 3 months');
    expect(offer?.en.text).toContain(iso(T0 + 200 * DAY).slice(0, 10));
    expect(offer?.zh.text).toContain("暂停还款3个月");
    expect(started?.en.text).toContain("Your relief is in place: no repayments for 3 months");
    expect(started?.en.text).toContain("1 drawdown schedule changed");
    expect(started?.zh.subject).toBe("您的纾困安排已生效");

    const view = (await inject({ method: "GET", url: "/v1/accounts/n1/hardship-offers" })).json();
    expect(view.offers[0]).toMatchObject({ programId: "storm-2026", status: "accepted" });
    const drawn = (await inject({ method: "GET", url: "/v1/accounts/n1/drawdowns" })).json().drawdowns[0];
    const moved = view.reschedules[0].instalments as { dueAt: number; total: number }[];
    const firstOriginal = Date.parse(drawn.instalments[1].dueAt);
    // Due dates from the holiday on move three months; the amounts are the same.
    expect(moved[1]?.dueAt).toBeGreaterThan(firstOriginal + 80 * DAY);
    expect(moved.map((i) => i.total)).toEqual(drawn.instalments.map((i: { total: number }) => i.total));

    // A due inside the holiday is owed at its end: 40 days after its date it is not overdue.
    const holidayDue = T0 + 45 * DAY;
    await post("/v1/events", {
      events: [
        due("n1", "u1", T0 + 41 * DAY, holidayDue, 50_000),
        due("n2", "u2", T0 + 41 * DAY, holidayDue, 50_000),
      ],
    });
    const now = holidayDue + 40 * DAY;
    const lines = await headroom.store.db
      .transaction()
      .execute((trx) => loadLines(trx, headroom.store, ["n1", "n2"]));
    const dpd = (id: string) => {
      const line = lines.get(id);
      if (line === undefined) throw new Error(`no line ${id}`);
      return readFeatures(line.state, { limit: line.row.limit_amount, balance: line.row.balance }, now).dpd;
    };
    expect(dpd("n1")).toBe(0);
    expect(dpd("n2")).toBe(40);

    const ledger = await verifyLedger(headroom.store);
    expect(ledger.ok).toBe(true);
    await sql`update hardship_offers set status = 'declined' where id = 'storm-2026:n1'`.execute(
      headroom.store.db,
    );
    expect((await verifyLedger(headroom.store)).problems.map((p) => p.problem)).toContain(
      "hardship offer answer storm-2026:n1 was edited after it was sealed",
    );
  });

  it("offers a program only to lines that meet its eligibility rules", async () => {
    await post("/v1/events", {
      events: [
        opened("n1", T0, { region: "north" }),
        opened("n2", T0, { region: "north" }),
        drawdown("n2", "d2", T0 + DAY, 600_000),
        due("n2", "u2", T0 + 2 * DAY, T0 + 5 * DAY, 50_000),
      ],
    });
    // n2 is 35 days past due: this program is for borrowers not yet seriously late.
    const offered = await post("/v1/hardship-programs", {
      ...program,
      id: "early-relief",
      eligibility: ["dpd <= 30"],
    });
    expect(offered.json()).toEqual({ programId: "early-relief", offered: 1 });
    const offersTo = async (id: string) =>
      (await inject({ method: "GET", url: `/v1/accounts/${id}/hardship-offers` })).json().offers;
    expect((await offersTo("n1")).map((o: { programId: string }) => o.programId)).toEqual(["early-relief"]);
    expect(await offersTo("n2")).toEqual([]);
    expect((await verifyLedger(headroom.store)).ok).toBe(true);

    const bad = await post("/v1/hardship-programs", { ...program, id: "x", eligibility: ["score >= 600"] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toContain("/body/eligibility/0");
  });

  it("refuses programs and answers it cannot take, as problem+json", async () => {
    const bad = await post("/v1/hardship-programs", {
      ...program,
      relief: { kind: "payment_holiday", months: 12 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toContain("/body/relief/months");
    expect((await post("/v1/hardship-programs", { ...program, endsAt: iso(T0) })).statusCode).toBe(409);
    expect((await post("/v1/accounts/n1/hardship-offers/none", { accept: true })).statusCode).toBe(409);
  });
});
