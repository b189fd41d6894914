/**
 * A user's token pair (mini program, web, app): keep the login's answer, give the client its
 * access token, and trade the refresh token for a new pair (POST /v1/auth/refresh) when the
 * client asks, once at a time: the service rotates the refresh token at each use and ends the
 * session when an old one comes back, so two refreshes with the same token would log out.
 */

import type { Client, FetchLike } from "./client.js";
import { problemFrom } from "./problem.js";
import type { components } from "./schema.js";

/** What `/v1/auth/*` logins and `/v1/auth/refresh` answer (LoginOut is a TokenPairOut too). */
export type TokenPair = Pick<
  components["schemas"]["TokenPairOut"],
  "access_token" | "refresh_token" | "expires_in" | "refresh_expires_in" | "session_id"
>;

/** What is kept between launches (JSON-safe: wx.setStorageSync / localStorage). */
export interface StoredTokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
  /** Epoch milliseconds. */
  access_expires_at: number;
  refresh_expires_at: number;
}

export interface TokenRefresherOptions {
  /** The client whose base URL and fetch to use; or give `baseUrl` (and `fetch`). */
  client?: Pick<Client, "baseUrl" | "fetch">;
  baseUrl?: string;
  fetch?: FetchLike;
  /** Read what `save` kept (synchronously: wx.getStorageSync, localStorage). */
  load: () => StoredTokens | null | undefined;
  /** Keep the tokens; null: forget them (logged out, or the refresh token is refused). */
  save: (tokens: StoredTokens | null) => void;
  /** For tests. */
  now?: () => number;
}

export interface TokenRefresher {
  /** For createClient({ getToken }). */
  getToken: () => string | null;
  /** For createClient({ refresh }): the new access token, or null when the session is over. */
  refresh: () => Promise<string | null>;
  /** Keep a login's (or a refresh's) answer. */
  store: (pair: TokenPair) => void;
  /** Forget the tokens (logout). */
  clear: () => void;
  /** What is kept now. */
  current: () => StoredTokens | null;
}

export function createTokenRefresher(options: TokenRefresherOptions): TokenRefresher {
  const now = options.now ?? Date.now;
  const baseUrl = (options.client?.baseUrl ?? options.baseUrl ?? "").replace(/\/+$/, "");
  let loaded = false;
  let tokens: StoredTokens | null = null;
  let refreshing: Promise<string | null> | null = null;

  function current(): StoredTokens | null {
    if (!loaded) {
      tokens = options.load() ?? null;
      loaded = true;
    }
    return tokens;
  }

  function keep(next: StoredTokens | null): void {
    tokens = next;
    loaded = true;
    options.save(next);
  }

  function store(pair: TokenPair): void {
    const at = now();
    keep({
      access_token: pair.access_token,
      refresh_token: pair.refresh_token,
      session_id: pair.session_id,
      access_expires_at: at + pair.expires_in * 1000,
      refresh_expires_at: at + pair.refresh_expires_in * 1000,
    });
  }

  async function trade(): Promise<string | null> {
    const held = current();
    if (held === null || held.refresh_token === "" || held.refresh_expires_at <= now()) {
      if (held !== null) keep(null);
      return null;
    }
    const send =
      options.fetch ??
      options.client?.fetch ??
      ((globalThis as { fetch?: FetchLike }).fetch?.bind(globalThis) as FetchLike | undefined);
    if (send === undefined) throw new TypeError("no fetch: pass createTokenRefresher({ fetch })");
    const response = await send(`${baseUrl}/v1/auth/refresh`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: held.refresh_token }),
    });
    const text = await response.text();
    if (response.status === 200) {
      store(JSON.parse(text) as TokenPair);
      return current()?.access_token ?? null;
    }
    const problem = problemFrom(
      response.status,
      response.statusText ?? "",
      response.headers.get("content-type"),
      text,
      response.headers.get("x-request-id"),
    );
    // Refused (expired, reused, session ended, malformed): that session is over.
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      keep(null);
      return null;
    }
    throw problem; // the service is down or busy: the session may well be fine
  }

  return {
    getToken: () => current()?.access_token ?? null,
    refresh: () => {
      refreshing ??= trade().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    store,
    clear: () => keep(null),
    current,
  };
}
