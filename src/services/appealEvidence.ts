import { createHash } from "node:crypto";

/** What an appeal may carry: a few documents, each small, each of a type whose bytes we check. */
export const EVIDENCE_LIMITS = { maxFiles: 5, maxBytes: 1024 * 1024 } as const;
export const EVIDENCE_KINDS = ["income_proof", "bank_statement", "other"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Allowed types and the leading bytes that prove a file is what it claims to be. */
const SIGNATURES: Record<string, (bytes: Buffer) => boolean> = {
  "application/pdf": (b) => b.subarray(0, 5).toString("latin1") === "%PDF-",
  "image/png": (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  // Bank statements often come as CSV exports: must be valid UTF-8 text without NUL bytes.
  "text/csv": (b) => !b.includes(0) && Buffer.from(b.toString("utf8"), "utf8").equals(b),
};
export const EVIDENCE_TYPES = Object.keys(SIGNATURES);

export interface EvidenceUpload {
  kind: EvidenceKind;
  filename: string;
  contentType: string;
  /** The file, base64-encoded. */
  content: string;
}

export interface CheckedEvidence {
  kind: EvidenceKind;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  content: string;
}

export class EvidenceRejected extends Error {
  constructor(
    readonly index: number,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Decodes and checks each file: real base64, within the size limit, and bytes matching its type. */
export function checkEvidence(files: readonly EvidenceUpload[]): CheckedEvidence[] {
  if (files.length > EVIDENCE_LIMITS.maxFiles)
    throw new EvidenceRejected(EVIDENCE_LIMITS.maxFiles, "", `at most ${EVIDENCE_LIMITS.maxFiles} files`);
  return files.map((file, index) => {
    const bytes = Buffer.from(file.content, "base64");
    if (bytes.toString("base64").replace(/=+$/, "") !== file.content.replace(/=+$/, ""))
      throw new EvidenceRejected(index, "content", "is not valid base64");
    if (bytes.length === 0) throw new EvidenceRejected(index, "content", "is empty");
    if (bytes.length > EVIDENCE_LIMITS.maxBytes)
      throw new EvidenceRejected(
        index,
        "content",
        `is ${bytes.length} bytes; the limit is ${EVIDENCE_LIMITS.maxBytes}`,
      );
    const signature = SIGNATURES[file.contentType];
    if (signature === undefined)
      throw new EvidenceRejected(index, "contentType", `must be one of ${EVIDENCE_TYPES.join(", ")}`);
    if (!signature(bytes))
      throw new EvidenceRejected(index, "content", `does not look like ${file.contentType}`);
    return {
      kind: file.kind,
      filename: file.filename,
      contentType: file.contentType,
      sizeBytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      content: file.content,
    };
  });
}
