import { useState } from "react";
import { postJson } from "../api.ts";
import { useI18n } from "../i18n/I18n.tsx";
import type { MessageKey } from "../i18n/messages.ts";
import type { AppealView, EvidenceKind } from "../types.ts";

/** Every kind the API takes, with its label; typed by the service's kinds so a new one fails the build. */
export const EVIDENCE_KIND_LABELS: Record<EvidenceKind, MessageKey> = {
  income_proof: "appeal.kind.income_proof",
  bank_statement: "appeal.kind.bank_statement",
  other: "appeal.kind.other",
};
/** What the server checks the bytes of (src/services/appealEvidence.ts); by extension when the browser gives no type. */
const TYPES_BY_EXTENSION: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  csv: "text/csv",
};
const MIN_STATEMENT = 10;

interface Upload {
  /** Only for the list on screen; not sent. */
  key: string;
  kind: EvidenceKind;
  filename: string;
  contentType: string;
  content: string;
}

function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** A retried submission must land on the same appeal; crypto.randomUUID needs a secure context, this does not. */
function newRequestId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** Where the borrower's appeal of a decision stands: awaiting a reviewer, or the outcome and its reason. */
export function AppealStatus({ appeal }: { appeal: AppealView }) {
  const { t, date, code, money } = useI18n();
  return (
    <div
      className="appeal-filed"
      data-testid="appeal-filed"
      data-appeal={appeal.appealId}
      data-status={appeal.status}
    >
      <p>
        <b>{t("appeal.yours")}</b> {code("appealStatus", appeal.status)}
      </p>
      {appeal.decidedAt === null ? (
        <p>
          {t(appeal.pausedAction ? "appeal.paused" : "appeal.reviewBy", { date: date(appeal.deadlineAt) })}
        </p>
      ) : (
        <p>
          {t("appeal.outcome", {
            date: date(appeal.decidedAt),
            limit: appeal.outcomeLimit === null ? t("common.unknown") : money(appeal.outcomeLimit),
          })}{" "}
          <q>{appeal.outcomeReason}</q>
        </p>
      )}
    </div>
  );
}

/** The borrower appeals one adverse decision: a statement in their words and up to five documents. */
export function AppealForm({
  accountId,
  decisionId,
  onFiled,
}: {
  accountId: string;
  decisionId: string;
  onFiled: (appeal: AppealView) => void;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [statement, setStatement] = useState("");
  const [kind, setKind] = useState<EvidenceKind>("income_proof");
  const [files, setFiles] = useState<Upload[]>([]);
  const [requestId] = useState(newRequestId);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" data-testid="appeal-open" onClick={() => setOpen(true)}>
        {t("appeal.start")}
      </button>
    );
  const addFiles = async (list: FileList | null) => {
    if (list === null) return;
    const added = await Promise.all(
      [...list].map(async (f) => ({
        key: newRequestId(),
        kind,
        filename: f.name,
        contentType: f.type || (TYPES_BY_EXTENSION[f.name.split(".").pop()?.toLowerCase() ?? ""] ?? ""),
        content: await base64Of(f),
      })),
    );
    setFiles((current) => [...current, ...added]);
  };
  const submit = () => {
    setSending(true);
    setError(null);
    postJson<AppealView>(`/v1/accounts/${encodeURIComponent(accountId)}/appeals`, {
      decisionId,
      statement,
      requestId,
      evidence: files.map(({ key: _, ...upload }) => upload),
    }).then(
      (appeal) => {
        setSending(false);
        onFiled(appeal);
      },
      (e: unknown) => {
        setError(String((e as Error).message));
        setSending(false);
      },
    );
  };
  return (
    <form
      className="appeal-form"
      data-testid="appeal-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label>
        {t("appeal.statement")}
        <textarea
          data-testid="appeal-statement"
          rows={4}
          value={statement}
          onChange={(e) => setStatement(e.target.value)}
          placeholder={t("appeal.statementHint")}
        />
      </label>
      <div className="appeal-evidence">
        <label>
          {t("appeal.evidenceKind")}{" "}
          <select value={kind} onChange={(e) => setKind(e.target.value as EvidenceKind)}>
            {Object.entries(EVIDENCE_KIND_LABELS).map(([k, label]) => (
              <option key={k} value={k}>
                {t(label)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("appeal.addFile")}{" "}
          <input
            type="file"
            multiple
            data-testid="appeal-file"
            accept={Object.keys(TYPES_BY_EXTENSION)
              .map((x) => `.${x}`)
              .join(",")}
            onChange={(e) => void addFiles(e.target.files)}
          />
        </label>
        <p className="muted">{t("appeal.fileRules")}</p>
        {files.length > 0 && (
          <ul data-testid="appeal-files">
            {files.map((f) => (
              <li key={f.key}>
                {f.filename} · {t(EVIDENCE_KIND_LABELS[f.kind])}{" "}
                <button type="button" onClick={() => setFiles((c) => c.filter((x) => x.key !== f.key))}>
                  {t("appeal.remove")}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {error !== null && (
        <p className="error" role="alert" data-testid="appeal-error">
          {error}
        </p>
      )}
      <button
        type="submit"
        data-testid="appeal-submit"
        disabled={sending || statement.trim().length < MIN_STATEMENT}
      >
        {sending ? t("appeal.sending") : t("appeal.submit")}
      </button>
    </form>
  );
}
