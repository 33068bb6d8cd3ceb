import type { ReactNode } from "react";
import type { Loaded } from "../api.ts";
import { useI18n } from "../i18n/I18n.tsx";

/** Shows loading and error states the same way everywhere, and the content once the data is in. */
export function Async<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  const { t } = useI18n();
  if (loaded.state === "loading") return <p className="muted">{t("common.loading")}</p>;
  if (loaded.state === "error")
    return (
      <p className="error" role="alert">
        {t("common.error", { detail: loaded.error })}
      </p>
    );
  return <>{children(loaded.data)}</>;
}
