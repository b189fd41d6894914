import { describe, expect, it, vi } from "vitest";

import {
  createClient,
  createTokenRefresher,
  createWxFetch,
  type FetchLike,
  type RequestLike,
  type StoredTokens,
  type WxRequestOptions,
} from "../src/index.js";

const NOW = 1_800_000_000_000;

function pair(n: number) {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: "Bearer" as const,
    expires_in: 900,
    refresh_expires_in: 2_592_000,
    session_id: "s-1",
  };
}

function storage(initial: StoredTokens | null = null) {
  let kept = initial;
  return {
    load: vi.fn(() => kept),
    save: vi.fn((tokens: StoredTokens | null) => {
      kept = tokens;
    }),
    kept: () => kept,
  };
}

describe("createTokenRefresher", () => {
  it("keeps a login's answer and gives its access token", () => {
    const store = storage();
    const tokens = createTokenRefresher({ baseUrl: "https://uc", fetch: vi.fn(), ...store, now: () => NOW });

    expect(tokens.getToken()).toBeNull();
    tokens.store({ ...pair(1), user: { uid: "u" }, is_new_user: false } as ReturnType<typeof pair>);

    expect(tokens.getToken()).toBe("access-1");
    expect(store.kept()).toEqual({
      access_token: "access-1",
      refresh_token: "refresh-1",
      session_id: "s-1",
      access_expires_at: NOW + 900_000,
      refresh_expires_at: NOW + 2_592_000_000,
    });
  });

  it("trades the refresh token at POST /v1/auth/refresh, once for concurrent callers", async () => {
    const store = storage();
    const calls: { url: string; init: RequestLike }[] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, init });
      await new Promise((resolve) => setTimeout(resolve, 5));
      return new Response(JSON.stringify(pair(2)), { status: 200, headers: { "content-type": "application/json" } });
    };
    const tokens = createTokenRefresher({ baseUrl: "https://uc/", fetch, ...store, now: () => NOW });
    tokens.store(pair(1));

    const answers = await Promise.all([tokens.refresh(), tokens.refresh(), tokens.refresh()]);

    expect(answers).toEqual(["access-2", "access-2", "access-2"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe("https://uc/v1/auth/refresh");
    expect(calls[0]!.init.method).toBe("POST");
    expect(JSON.parse(calls[0]!.init.body!)).toEqual({ refresh_token: "refresh-1" });
    expect(store.kept()?.refresh_token).toBe("refresh-2");
    expect(tokens.getToken()).toBe("access-2");
  });

  it("forgets the tokens when the service refuses the refresh token", async () => {
    const store = storage();
    const fetch: FetchLike = async () =>
      new Response(JSON.stringify({ title: "t", status: 401, code: "refresh_token_reused" }), {
        status: 401,
        headers: { "content-type": "application/problem+json" },
      });
    const tokens = createTokenRefresher({ baseUrl: "", fetch, ...store, now: () => NOW });
    tokens.store(pair(1));

    await expect(tokens.refresh()).resolves.toBeNull();
    expect(store.kept()).toBeNull();
    expect(tokens.getToken()).toBeNull();
  });

  it("keeps the tokens and rejects when the service is down", async () => {
    const store = storage();
    const fetch: FetchLike = async () => new Response("", { status: 503 });
    const tokens = createTokenRefresher({ baseUrl: "", fetch, ...store, now: () => NOW });
    tokens.store(pair(1));

    await expect(tokens.refresh()).rejects.toMatchObject({ code: "http_503" });
    expect(tokens.getToken()).toBe("access-1");
  });

  it("does not ask with a refresh token past its expiry", async () => {
    const fetch = vi.fn<FetchLike>();
    const store = storage({
      access_token: "a",
      refresh_token: "r",
      session_id: "s",
      access_expires_at: NOW - 10,
      refresh_expires_at: NOW - 1,
    });
    const tokens = createTokenRefresher({ baseUrl: "", fetch, ...store, now: () => NOW });

    await expect(tokens.refresh()).resolves.toBeNull();
    expect(fetch).not.toHaveBeenCalled();
    expect(store.kept()).toBeNull();
  });

  it("with a client: an expired access token is refreshed and the request retried", async () => {
    const store = storage();
    const seen: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      seen.push(`${init.method} ${url} ${init.headers.Authorization ?? "-"}`);
      if (url.endsWith("/v1/auth/refresh")) {
        return new Response(JSON.stringify(pair(2)), { status: 200, headers: { "content-type": "application/json" } });
      }
      if (init.headers.Authorization === "Bearer access-2") {
        return new Response(JSON.stringify({ uid: "u" }), { status: 200, headers: { "content-type": "application/json" } });
      }
      return new Response(JSON.stringify({ title: "t", status: 401, code: "token_expired" }), {
        status: 401,
        headers: { "content-type": "application/problem+json" },
      });
    };
    const transport = createClient({ baseUrl: "https://uc", fetch });
    const tokens = createTokenRefresher({ client: transport, ...store, now: () => NOW });
    const api = createClient({ baseUrl: "https://uc", fetch, getToken: tokens.getToken, refresh: tokens.refresh });
    tokens.store(pair(1));

    await expect(api.GET("/v1/me")).resolves.toEqual({ uid: "u" });
    expect(seen).toEqual([
      "GET https://uc/v1/me Bearer access-1",
      "POST https://uc/v1/auth/refresh -",
      "GET https://uc/v1/me Bearer access-2",
    ]);
  });
});

describe("createWxFetch", () => {
  it("sends through wx.request and answers as fetch does", async () => {
    const requests: WxRequestOptions[] = [];
    const wxRequest = (options: WxRequestOptions) => {
      requests.push(options);
      options.success({
        statusCode: 422,
        // wx.request may parse JSON itself whatever dataType says: both are read.
        data: { title: "输入有误", status: 422, code: "validation_failed", errors: [] },
        header: { "Content-Type": "application/problem+json", "X-Request-ID": "r-9" },
      });
    };
    const api = createClient({ baseUrl: "https://uc", fetch: createWxFetch(wxRequest), language: () => "zh-CN" });

    await expect(
      api.POST("/v1/auth/password-login", { body: { login: "a", password: "b" } }),
    ).rejects.toMatchObject({ code: "validation_failed", title: "输入有误", requestId: "r-9" });
    expect(requests[0]).toMatchObject({
      url: "https://uc/v1/auth/password-login",
      method: "POST",
      data: '{"login":"a","password":"b"}',
      dataType: "text",
      header: { "Accept-Language": "zh-CN", "Content-Type": "application/json" },
    });
  });

  it("turns a failed wx.request into network_error", async () => {
    const api = createClient({
      fetch: createWxFetch((options) => options.fail({ errMsg: "request:fail timeout" })),
    });

    await expect(api.GET("/v1/me")).rejects.toMatchObject({ code: "network_error", detail: "request:fail timeout" });
  });
});
