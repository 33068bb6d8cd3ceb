import { useEffect, useState } from "react";

/** An RFC 9457 problem the API answered with, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { detail?: string } | null;
    throw new ApiError(response.status, problem?.detail ?? `${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

/** POSTs JSON; a problem+json answer becomes an ApiError with its detail. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { detail?: string } | null;
    throw new ApiError(response.status, problem?.detail ?? `${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; error: string }
  | { state: "ready"; data: T };

/** Fetches `path` whenever it changes (null: nothing to fetch); `reload` changes to fetch again. */
export function useApi<T>(path: string | null, reload = 0): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload is the caller's "fetch again" signal.
  useEffect(() => {
    if (path === null) return;
    let current = true;
    setLoaded({ state: "loading" });
    getJson<T>(path).then(
      (data) => current && setLoaded({ state: "ready", data }),
      (error: unknown) => current && setLoaded({ state: "error", error: String((error as Error).message) }),
    );
    return () => {
      current = false;
    };
  }, [path, reload]);
  return loaded;
}
