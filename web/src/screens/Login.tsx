import { type FormEvent, useState } from "react";
import { useI18n } from "../i18n/I18n.tsx";

/** The console's sign-in: the API sets an HttpOnly session cookie the browser sends from then on. */
export function Login({ onLoggedIn }: { onLoggedIn: () => void }) {
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const response = await fetch("/v1/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
    });
    setFailed(!response.ok);
    if (response.ok) onLoggedIn();
  };
  return (
    <form className="login" data-testid="login" onSubmit={submit}>
      <h2>{t("login.title")}</h2>
      <label>
        {t("login.username")}
        <input name="username" autoComplete="username" required />
      </label>
      <label>
        {t("login.password")}
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit">{t("login.submit")}</button>
      {failed && <p className="error">{t("login.failed")}</p>}
    </form>
  );
}
