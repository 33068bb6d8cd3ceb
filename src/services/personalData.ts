import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../store/connect.ts";

/**
 * Borrowers' personal data (name, phone, ID number, bank account) is stored only encrypted:
 * AES-256-GCM under a data key per borrower, the data key wrapped by the master key. Each
 * ciphertext is bound to its borrower (additional authenticated data), so rows cannot be swapped.
 * Erasure destroys the data key: the ciphertext, and every backup of it, becomes unreadable, while
 * the ledger (which never holds personal data) still verifies.
 */
export interface PersonalData {
  name: string;
  phone: string;
  idNumber: string;
  bankAccount: string | null;
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

export class PersonalDataRefused extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** Where the demo's generated master key lives when $HEADROOM_MASTER_KEY is not set. */
export const DEV_MASTER_KEY_FILE = "data/master.key";

export function masterKeyFrom(material: Buffer): MasterKey {
  if (material.length !== 32) throw new Error("a master key is 32 bytes (base64 or hex)");
  return { id: createHash("sha256").update(material).digest("hex").slice(0, 16), key: material };
}

/** A master key written as 64 hex digits or base64. */
export function parseMasterKey(text: string): MasterKey {
  const trimmed = text.trim();
  return masterKeyFrom(
    /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64"),
  );
}

let loaded: MasterKey | undefined;

/**
 * The master key: $HEADROOM_MASTER_KEY (32 bytes, base64 or hex) in production; otherwise a dev
 * key generated once into data/master.key (mode 0600) so the demo runs without setup.
 */
export function masterKey(): MasterKey {
  if (loaded !== undefined) return loaded;
  const env = process.env.HEADROOM_MASTER_KEY;
  if (env !== undefined && env !== "") loaded = parseMasterKey(env);
  else {
    if (!existsSync(DEV_MASTER_KEY_FILE)) {
      mkdirSync(dirname(DEV_MASTER_KEY_FILE), { recursive: true });
      writeFileSync(DEV_MASTER_KEY_FILE, `${randomBytes(32).toString("base64")}\n`, {
        mode: 0o600,
        flag: "wx",
      });
    }
    loaded = parseMasterKey(readFileSync(DEV_MASTER_KEY_FILE, "utf8"));
  }
  return loaded;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(
    ".",
  );
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== "v1" || iv === undefined || tag === undefined || body === undefined)
    throw new Error("unknown ciphertext format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]);
}

const keyAad = (borrowerId: string) => `borrower-key:${borrowerId}`;
const dataAad = (borrowerId: string) => `personal-data:${borrowerId}`;

/** Stores (or replaces) personal data for borrowers, creating data keys as needed; one transaction. */
export async function storePersonalData(
  store: Store,
  master: MasterKey,
  entries: readonly { borrowerId: string; data: PersonalData }[],
  now: number,
): Promise<void> {
  if (entries.length === 0) return;
  const ids = entries.map((e) => e.borrowerId);
  await store.db.transaction().execute(async (trx) => {
    const known = new Set(
      (await trx.selectFrom("borrowers").select("id").where("id", "in", ids).execute()).map((b) => b.id),
    );
    const keys = new Map(
      (await trx.selectFrom("borrower_keys").selectAll().where("borrower_id", "in", ids).execute()).map(
        (k) => [k.borrower_id, k],
      ),
    );
    const newKeys = [];
    const rows = [];
    for (const { borrowerId, data } of entries) {
      if (!known.has(borrowerId)) throw new PersonalDataRefused(404, `borrower ${borrowerId} does not exist`);
      const existing = keys.get(borrowerId);
      let dataKey: Buffer;
      if (existing === undefined) {
        dataKey = randomBytes(32);
        newKeys.push({
          borrower_id: borrowerId,
          wrapped_key: seal(master.key, dataKey, keyAad(borrowerId)),
          master_key_id: master.id,
          created_at: now,
          destroyed_at: null,
        });
      } else if (existing.wrapped_key === null) {
        throw new PersonalDataRefused(409, `borrower ${borrowerId}'s personal data was erased`);
      } else dataKey = unwrap(master, existing);
      rows.push({
        borrower_id: borrowerId,
        ciphertext: seal(dataKey, Buffer.from(JSON.stringify(data)), dataAad(borrowerId)),
        updated_at: now,
      });
    }
    for (let i = 0; i < newKeys.length; i += 200)
      await trx
        .insertInto("borrower_keys")
        .values(newKeys.slice(i, i + 200))
        .execute();
    for (let i = 0; i < rows.length; i += 300)
      await trx
        .insertInto("borrower_personal_data")
        .values(rows.slice(i, i + 300))
        .onConflict((oc) =>
          oc.column("borrower_id").doUpdateSet((eb) => ({
            ciphertext: eb.ref("excluded.ciphertext"),
            updated_at: eb.ref("excluded.updated_at"),
          })),
        )
        .execute();
  });
}

function unwrap(
  master: MasterKey,
  row: { borrower_id: string; wrapped_key: string | null; master_key_id: string },
) {
  if (row.master_key_id !== master.id)
    throw new Error(
      `borrower ${row.borrower_id}'s key is wrapped by master key ${row.master_key_id}, not ${master.id}`,
    );
  return open(master.key, row.wrapped_key as string, keyAad(row.borrower_id));
}

/** The borrower's personal data; "erased" after erasure; null when none was ever stored. */
export async function readPersonalData(
  store: Store,
  master: MasterKey,
  borrowerId: string,
): Promise<PersonalData | "erased" | null> {
  const key = await store.db
    .selectFrom("borrower_keys")
    .selectAll()
    .where("borrower_id", "=", borrowerId)
    .executeTakeFirst();
  if (key === undefined) return null;
  if (key.wrapped_key === null) return "erased";
  const row = await store.db
    .selectFrom("borrower_personal_data")
    .select("ciphertext")
    .where("borrower_id", "=", borrowerId)
    .executeTakeFirst();
  if (row === undefined) return null;
  return JSON.parse(open(unwrap(master, key), row.ciphertext, dataAad(borrowerId)).toString("utf8"));
}

/** Crypto-shredding: the data key is destroyed; the ciphertext stays, unreadable by anyone. */
export async function erasePersonalData(store: Store, borrowerId: string, now: number): Promise<boolean> {
  const result = await store.db
    .updateTable("borrower_keys")
    .set({ wrapped_key: null, destroyed_at: now })
    .where("borrower_id", "=", borrowerId)
    .where("wrapped_key", "is not", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Re-wraps every live data key under a new master key (the data itself is not re-encrypted). */
export async function rotateMasterKey(store: Store, from: MasterKey, to: MasterKey): Promise<number> {
  return store.db.transaction().execute(async (trx) => {
    const keys = await trx
      .selectFrom("borrower_keys")
      .selectAll()
      .where("wrapped_key", "is not", null)
      .where("master_key_id", "=", from.id)
      .execute();
    for (const k of keys) {
      const dataKey = unwrap(from, k);
      await trx
        .updateTable("borrower_keys")
        .set({ wrapped_key: seal(to.key, dataKey, keyAad(k.borrower_id)), master_key_id: to.id })
        .where("borrower_id", "=", k.borrower_id)
        .execute();
    }
    return keys.length;
  });
}

/** Replaces one borrower's data key and re-encrypts their data under it, in one transaction. */
export async function rotateBorrowerKey(
  store: Store,
  master: MasterKey,
  borrowerId: string,
): Promise<boolean> {
  return store.db.transaction().execute(async (trx) => {
    const key = await trx
      .selectFrom("borrower_keys")
      .selectAll()
      .where("borrower_id", "=", borrowerId)
      .executeTakeFirst();
    const row = await trx
      .selectFrom("borrower_personal_data")
      .select("ciphertext")
      .where("borrower_id", "=", borrowerId)
      .executeTakeFirst();
    if (key === undefined || key.wrapped_key === null || row === undefined) return false;
    const plaintext = open(unwrap(master, key), row.ciphertext, dataAad(borrowerId));
    const fresh = randomBytes(32);
    await trx
      .updateTable("borrower_keys")
      .set({ wrapped_key: seal(master.key, fresh, keyAad(borrowerId)), master_key_id: master.id })
      .where("borrower_id", "=", borrowerId)
      .execute();
    await trx
      .updateTable("borrower_personal_data")
      .set({ ciphertext: seal(fresh, plaintext, dataAad(borrowerId)) })
      .where("borrower_id", "=", borrowerId)
      .execute();
    return true;
  });
}

const keepEnds = (text: string, head: number, tail: number) =>
  text.length <= head + tail
    ? "*".repeat(text.length)
    : text.slice(0, head) + "*".repeat(text.length - head - tail) + (tail === 0 ? "" : text.slice(-tail));

/** What staff without a need for the full values see (and what logs may ever show). */
export function maskPersonalData(data: PersonalData): PersonalData {
  return {
    name: keepEnds(data.name, 1, 0),
    phone: keepEnds(data.phone, 3, 4),
    idNumber: keepEnds(data.idNumber, 2, 2),
    bankAccount: data.bankAccount === null ? null : keepEnds(data.bankAccount, 0, 4),
  };
}
