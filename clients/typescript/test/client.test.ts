import { describe, expect, expectTypeOf, it, vi } from "vitest";

import {
  createClient,
  isProblem,
  ProblemError,
  type FetchLike,
  type RequestLike,
  type Schemas,
} from "../src/index.js";

interface Call {
  url: string;
  init: RequestLike;
}

/** A fake service: answers each call with what `answer` returns (real fetch Responses). */
function fakeFetch(answer: (call: Call, index: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call = { url, init };
    calls.push(call);
    return answer(call, calls.length - 1);
  };
  return { fetch, calls };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function problem(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: `title of ${code}`, status, detail: `detail of ${code}`, code, ...extra }),
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

const ME = { uid: "u1", nickname: "n" };

describe("requests", () => {
  it("resolves to the body, with the token, the language and JSON headers", async () => {
    const service = fakeFetch(() => json(200, ME));
    const api = createClient({
      baseUrl: "https://uc.example.com/",
      fetch: service.fetch,
      getToken: () => "access-1",
      language: () => "zh-CN",
    });

    const me = await api.GET("/v1/me");

    expect(me).toEqual(ME);
    expect(service.calls).toHaveLength(1);
    expect(service.calls[0]!.url).toBe("https://uc.example.com/v1/me");
    expect(service.calls[0]!.init.method).toBe("GET");
    expect(service.calls[0]!.init.headers).toEqual({
      Accept: "application/json",
      Authorization: "Bearer access-1",
      "Accept-Language": "zh-CN",
    });
    expect(service.calls[0]!.init.body).toBeUndefined();
  });

  it("fills path parameters and serialises the query as FastAPI reads it", async () => {
    const service = fakeFetch(() => new Response(null, { status: 204 }));
    const api = createClient({ fetch: service.fetch });

    await api.DELETE("/v1/admin/users/{user_id}/identities/{identity_id}", {
      params: { path: { user_id: 12, identity_id: 34 } },
    });
    await api.GET("/v1/admin/users", {
      params: { query: { nickname: "小 明&co", status: null, limit: 20 } },
    });
    await api.request("GET", "/v1/things/{name}", {
      params: { path: { name: "a/b c" }, query: { tag: ["x", "y z"], on: true, skipped: undefined } },
    });

    expect(service.calls.map((call) => call.url)).toEqual([
      "/v1/admin/users/12/identities/34",
      "/v1/admin/users?nickname=%E5%B0%8F%20%E6%98%8E%26co&limit=20",
      "/v1/things/a%2Fb%20c?tag=x&tag=y%20z&on=true",
    ]);
  });

  it("refuses to send a path with a parameter missing", async () => {
    const service = fakeFetch(() => json(200, {}));
    const api = createClient({ fetch: service.fetch });

    await expect(api.request("GET", "/v1/admin/users/{user_id}", {})).rejects.toThrow(/user_id/);
    expect(service.calls).toHaveLength(0);
  });

  it("sends a body as JSON", async () => {
    const service = fakeFetch(() => json(200, { ok: true }));
    const api = createClient({ fetch: service.fetch });

    await api.POST("/v1/auth/password-login", {
      body: { login: "13900000000", password: "secret-pass" },
    });

    expect(service.calls[0]!.init.headers["Content-Type"]).toBe("application/json");
    expect(JSON.parse(service.calls[0]!.init.body!)).toEqual({
      login: "13900000000",
      password: "secret-pass",
    });
  });

  it("resolves a 204 to undefined", async () => {
    const service = fakeFetch(() => new Response(null, { status: 204 }));
    const api = createClient({ fetch: service.fetch, getToken: () => "t" });

    const answer = await api.DELETE("/v1/admin/users/{user_id}/identities/{identity_id}", {
      params: { path: { user_id: 1, identity_id: 2 } },
    });

    expect(answer).toBeUndefined();
  });
});

describe("errors", () => {
  it("rejects with the problem's code, texts, request id and fields", async () => {
    const service = fakeFetch(() =>
      problem(422, "validation_failed", {
        request_id: "req-1",
        errors: [{ field: "phone", code: "string_too_short", message: "太短" }],
      }),
    );
    const api = createClient({ fetch: service.fetch });

    const error = await api.POST("/v1/auth/password-login", { body: { login: "x", password: "y" } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({
      status: 422,
      code: "validation_failed",
      title: "title of validation_failed",
      detail: "detail of validation_failed",
      message: "detail of validation_failed",
      requestId: "req-1",
      errors: [{ field: "phone", code: "string_too_short", message: "太短" }],
    });
    expect((error as ProblemError).fieldMessage("phone")).toBe("太短");
    expect(isProblem(error, "validation_failed")).toBe(true);
    expect(isProblem(error, "token_expired")).toBe(false);
  });

  it("takes the request id from X-Request-ID when the body has none", async () => {
    const service = fakeFetch(
      () =>
        new Response(JSON.stringify({ title: "Not found", status: 404, code: "user_not_found" }), {
          status: 404,
          headers: { "content-type": "application/problem+json", "x-request-id": "req-2" },
        }),
    );
    const api = createClient({ fetch: service.fetch });

    await expect(api.GET("/v1/me")).rejects.toMatchObject({ code: "user_not_found", requestId: "req-2", errors: [] });
  });

  it("makes a problem of an answer that is not problem+json", async () => {
    const service = fakeFetch(
      () =>
        new Response("<html><body>502 Bad Gateway</body></html>", {
          status: 502,
          statusText: "Bad Gateway",
          headers: { "content-type": "text/html" },
        }),
    );
    const api = createClient({ fetch: service.fetch });

    const error = await api.GET("/v1/me").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 502, code: "http_502", title: "Bad Gateway", errors: [] });
    expect((error as ProblemError).detail).toBeUndefined();
  });

  it("makes a problem of JSON without a code, and of an empty body", async () => {
    const service = fakeFetch((_, index) =>
      index === 0 ? json(500, { message: "oops" }) : new Response("", { status: 503 }),
    );
    const api = createClient({ fetch: service.fetch });

    await expect(api.GET("/v1/me")).rejects.toMatchObject({ status: 500, code: "http_500" });
    await expect(api.GET("/v1/me")).rejects.toMatchObject({ status: 503, code: "http_503", title: "HTTP 503" });
  });

  it("rejects with network_error when the service cannot be reached", async () => {
    const api = createClient({
      fetch: () => Promise.reject(new TypeError("fetch failed")),
    });

    await expect(api.GET("/v1/me")).rejects.toMatchObject({
      name: "ProblemError",
      status: 0,
      code: "network_error",
      detail: "fetch failed",
    });
  });

  it("lets an abort through as it is", async () => {
    const controller = new AbortController();
    controller.abort();
    const api = createClient({
      fetch: (_, init) => Promise.reject(init.signal?.reason ?? new Error("not aborted")),
    });

    await expect(api.GET("/v1/me", { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("refresh", () => {
  function session(initial: string) {
    let token = initial;
    let refreshes = 0;
    return {
      getToken: () => token,
      refresh: vi.fn(async () => {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        token = `access-${refreshes + 1}`;
        return token;
      }),
    };
  }

  it("refreshes once for ten requests refused at once, then retries each", async () => {
    const user = session("access-1");
    const service = fakeFetch(({ init }) =>
      init.headers.Authorization === "Bearer access-2" ? json(200, ME) : problem(401, "token_expired"),
    );
    const onUnauthorized = vi.fn();
    const api = createClient({ fetch: service.fetch, ...user, onUnauthorized });

    const answers = await Promise.all(Array.from({ length: 10 }, () => api.GET("/v1/me")));

    expect(answers).toEqual(Array.from({ length: 10 }, () => ME));
    expect(user.refresh).toHaveBeenCalledTimes(1);
    expect(service.calls).toHaveLength(20);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("uses a token refreshed meanwhile instead of refreshing again", async () => {
    const user = session("access-1");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const service = fakeFetch(async ({ init }, index) => {
      if (index === 1) await held; // the second request is answered after the refresh
      return init.headers.Authorization === "Bearer access-2" ? json(200, ME) : problem(401, "token_invalid");
    });
    const api = createClient({ fetch: service.fetch, ...user });

    const first = api.GET("/v1/me");
    const second = api.GET("/v1/me");
    await first;
    release();
    await second;

    expect(user.refresh).toHaveBeenCalledTimes(1);
    expect(service.calls.map((call) => call.init.headers.Authorization)).toEqual([
      "Bearer access-1",
      "Bearer access-1",
      "Bearer access-2",
      "Bearer access-2",
    ]);
  });

  it("retries once, then gives up and says so", async () => {
    const user = session("access-1");
    const service = fakeFetch(() => problem(401, "token_expired"));
    const onUnauthorized = vi.fn();
    const api = createClient({ fetch: service.fetch, ...user, onUnauthorized });

    const error = await api.GET("/v1/me").catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 401, code: "token_expired" });
    expect(service.calls).toHaveLength(2);
    expect(user.refresh).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith(error);
  });

  it("when the refresh gets nothing, does not retry and calls onUnauthorized", async () => {
    const service = fakeFetch(() => problem(401, "token_expired"));
    const onUnauthorized = vi.fn();
    const refresh = vi.fn(async () => null);
    const api = createClient({ fetch: service.fetch, getToken: () => "old", refresh, onUnauthorized });

    const results = await Promise.allSettled([api.GET("/v1/me"), api.GET("/v1/me"), api.GET("/v1/me")]);

    expect(results.every((r) => r.status === "rejected" && isProblem(r.reason, "token_expired"))).toBe(true);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(service.calls).toHaveLength(3);
    expect(onUnauthorized).toHaveBeenCalledTimes(3);
  });

  it("when the refresh is refused (401), calls onUnauthorized with that problem", async () => {
    const service = fakeFetch(() => problem(401, "token_expired"));
    const onUnauthorized = vi.fn();
    const refused = new ProblemError({ status: 401, code: "refresh_token_invalid", title: "no" });
    const api = createClient({
      fetch: service.fetch,
      getToken: () => "old",
      refresh: () => Promise.reject(refused),
      onUnauthorized,
    });

    await expect(api.GET("/v1/me")).rejects.toBe(refused);
    expect(onUnauthorized).toHaveBeenCalledWith(refused);
  });

  it("when the refresh cannot reach the service, rejects without logging out", async () => {
    const service = fakeFetch(() => problem(401, "token_expired"));
    const onUnauthorized = vi.fn();
    const down = new ProblemError({ status: 0, code: "network_error", title: "down" });
    const api = createClient({
      fetch: service.fetch,
      getToken: () => "old",
      refresh: () => Promise.reject(down),
      onUnauthorized,
    });

    await expect(api.GET("/v1/me")).rejects.toBe(down);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("does not refresh a 401 that a new token cannot cure, and logs out", async () => {
    const service = fakeFetch(() => problem(401, "session_revoked"));
    const onUnauthorized = vi.fn();
    const refresh = vi.fn(async () => "new");
    const api = createClient({ fetch: service.fetch, getToken: () => "t", refresh, onUnauthorized });

    await expect(api.GET("/v1/me")).rejects.toMatchObject({ code: "session_revoked" });
    expect(refresh).not.toHaveBeenCalled();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("leaves a 401 of a request sent without a token to the caller (a wrong password)", async () => {
    const service = fakeFetch(() => problem(401, "invalid_credentials"));
    const onUnauthorized = vi.fn();
    const refresh = vi.fn(async () => "new");
    const api = createClient({ fetch: service.fetch, getToken: () => null, refresh, onUnauthorized });

    await expect(
      api.POST("/v1/auth/password-login", { body: { login: "a", password: "b" } }),
    ).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(refresh).not.toHaveBeenCalled();
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(service.calls[0]!.init.headers.Authorization).toBeUndefined();
  });

  it("resends the same body on the retry", async () => {
    const user = session("access-1");
    const service = fakeFetch(({ init }) =>
      init.headers.Authorization === "Bearer access-2" ? json(200, { done: true }) : problem(401, "token_expired"),
    );
    const api = createClient({ fetch: service.fetch, ...user });

    await api.POST("/v1/auth/password-login", { body: { login: "a", password: "b" } });

    expect(service.calls.map((call) => call.init.body)).toEqual([
      '{"login":"a","password":"b"}',
      '{"login":"a","password":"b"}',
    ]);
  });
});

describe("types", () => {
  it("are those of the OpenAPI document", () => {
    const api = createClient({ fetch: () => Promise.resolve(json(200, {})) });
    // Checked by `tsc --noEmit` (npm run typecheck); nothing is sent.
    const typed = () => {
      expectTypeOf(api.GET("/v1/me")).resolves.toEqualTypeOf<Schemas["UserOut"]>();
      expectTypeOf(
        api.DELETE("/v1/admin/users/{user_id}/identities/{identity_id}", {
          params: { path: { user_id: 1, identity_id: 2 } },
        }),
      ).resolves.toEqualTypeOf<undefined>();
      expectTypeOf(
        api.POST("/v1/auth/refresh", { body: { refresh_token: "r" } }),
      ).resolves.toEqualTypeOf<Schemas["TokenPairOut"]>();
      // @ts-expect-error: the path parameters are required
      void api.DELETE("/v1/admin/users/{user_id}/identities/{identity_id}");
      // @ts-expect-error: the body is required
      void api.POST("/v1/auth/refresh");
      // @ts-expect-error: not a path of the service
      void api.GET("/v1/nowhere");
    };
    expect(typeof typed).toBe("function");
  });
});
