import { createHash } from "node:crypto";
import type { Headroom } from "../headroom.ts";
import { masterKey, type PersonalData, storePersonalData } from "../personalData.ts";

const SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "军", "杰", "娟"];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** Digits derived from the borrower id, so the same demo always has the same (fictional) people. */
function digits(borrowerId: string, salt: string, count: number): string {
  const hash = createHash("sha256").update(`${salt}:${borrowerId}`).digest();
  let out = "";
  for (let i = 0; out.length < count; i++) out += String((hash[i % hash.length] as number) % 10);
  return out;
}

/** A fictional but well-formed identity: mobile number, 18-character resident ID with its check digit. */
export function demoPersonalData(borrowerId: string): PersonalData {
  const pick = (list: string[], salt: string) =>
    list[Number(digits(borrowerId, salt, 3)) % list.length] as string;
  const year = 1960 + (Number(digits(borrowerId, "y", 2)) % 40);
  const month = String(1 + (Number(digits(borrowerId, "m", 2)) % 12)).padStart(2, "0");
  const day = String(1 + (Number(digits(borrowerId, "d", 2)) % 28)).padStart(2, "0");
  const body = `110105${year}${month}${day}${digits(borrowerId, "s", 3)}`;
  const sum = [...body].reduce((acc, c, i) => acc + Number(c) * (ID_WEIGHTS[i] as number), 0);
  return {
    name: `${pick(SURNAMES, "sn")}${pick(GIVEN, "g1")}${pick(GIVEN, "g2")}`,
    phone: `13${digits(borrowerId, "p", 9)}`,
    idNumber: `${body}${ID_CHECK[sum % 11]}`,
    bankAccount: `6222${digits(borrowerId, "b", 15)}`,
  };
}

/** Gives every demo borrower personal data, encrypted under their own key. */
export async function seedDemoPersonalData(headroom: Headroom): Promise<number> {
  let after = "";
  let stored = 0;
  for (;;) {
    const page = await headroom.store.db
      .selectFrom("borrowers")
      .select("id")
      .where("id", ">", after)
      .orderBy("id")
      .limit(1000)
      .execute();
    if (page.length === 0) return stored;
    await storePersonalData(
      headroom.store,
      masterKey(),
      page.map((b) => ({ borrowerId: b.id, data: demoPersonalData(b.id) })),
      headroom.clock(),
    );
    stored += page.length;
    after = (page[page.length - 1] as { id: string }).id;
  }
}
