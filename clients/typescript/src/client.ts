/**
 * The runtime: a typed call per HTTP method that resolves to the answer's body and rejects with
 * a ProblemError, bearer tokens with one shared refresh, and Accept-Language.
 *
 * It needs only a `fetch(url, { method, headers, body, signal })` whose answer has `status`,
 * `statusText`, `headers.get()` and `text()`: no Request, Headers, URL or URLSearchParams
 * globals, which a WeChat mini program does not have (see `createWxFetch`).
 */

import type {
  HttpMethod,
  IsOperationRequestBodyOptional,
  OperationRequestBodyContent,
  PathsWithMethod,
  RequiredKeysOf,
  ResponseObjectMap,
  SuccessResponse,
} from "openapi-typescript-helpers";

import { ProblemError, problemFrom } from "./problem.js";
import type { paths } from "./schema.js";

/** What the client needs of an answer (a fetch Response has all of it). */
export interface ResponseLike {
  readonly status: number;
  readonly statusText?: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface RequestLike {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A fetch: the global one, or an adapter (`createWxFetch(wx.request)`). */
export type FetchLike = (url: string, init: RequestLike) => Promise<ResponseLike>;

export interface ClientOptions {
  /** Where the service is, e.g. `https://uc.example.com` (default: the page's own origin). */
  baseUrl?: string;
  /** The access token to send as `Authorization: Bearer …`, if any. */
  getToken?: () => string | null | undefined;
  /**
   * Get a new access token after a 401 `token_expired`/`token_invalid`: called once for all the
   * requests refused meanwhile (single flight); each is then retried once. Null: none to be had.
   */
  refresh?: () => Promise<string | null>;
  /** A request that carried a token was refused for good (no refresh, or it failed). */
  onUnauthorized?: (problem: ProblemError) => void;
  /** Sent as Accept-Language: the texts of the answers (titles, messages) are in it. */
  language?: () => string;
  fetch?: FetchLike;
}

/** The 401 codes a new access token can cure. */
const REFRESHABLE = new Set(["token_expired", "token_invalid"]);

type Scalar = string | number | boolean;
type QueryValue = Scalar | null | undefined | readonly Scalar[];

export interface RequestInitBase {
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown> };
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

// Typing, after openapi-fetch: the init of an operation needs `params` when it has a required
// parameter and `body` when its request body is required.
type ParamsOption<Op> = Op extends { parameters: infer P }
  ? RequiredKeysOf<P> extends never
    ? { params?: P }
    : { params: P }
  : { params?: never };
type BodyOption<Op> =
  OperationRequestBodyContent<Op> extends never
    ? { body?: never }
    : IsOperationRequestBodyOptional<Op> extends true
      ? { body?: OperationRequestBodyContent<Op> }
      : { body: OperationRequestBodyContent<Op> };
export type RequestInit<Op> = ParamsOption<Op> &
  BodyOption<Op> & { headers?: Record<string, string>; signal?: AbortSignal };
type InitArgs<Init> = RequiredKeysOf<Init> extends never ? [init?: Init] : [init: Init];

type Operation<Path extends keyof paths, M extends HttpMethod> = M extends keyof paths[Path]
  ? paths[Path][M]
  : never;
/** The body of an operation's success answer (`undefined` for a 204). */
export type ResponseBody<Op> =
  ResponseObjectMap<Op> extends infer Responses extends Record<string | number, unknown>
    ? SuccessResponse<Responses, `${string}/json`> extends infer Body
      ? [Body] extends [never]
        ? undefined
        : Body
      : never
    : never;

export type Method<M extends HttpMethod> = <Path extends PathsWithMethod<paths, M>>(
  path: Path,
  ...init: InitArgs<RequestInit<Operation<Path, M>>>
) => Promise<ResponseBody<Operation<Path, M>>>;

export interface Client {
  GET: Method<"get">;
  POST: Method<"post">;
  PUT: Method<"put">;
  PATCH: Method<"patch">;
  DELETE: Method<"delete">;
  /** Untyped: any method and path (the path's `{name}`s are filled from params.path). */
  request(method: string, path: string, init?: RequestInitBase): Promise<unknown>;
  readonly baseUrl: string;
  /** The fetch the client sends with (for `createTokenRefresher({ client })`). */
  readonly fetch: FetchLike;
}

function encode(value: Scalar): string {
  return encodeURIComponent(String(value));
}

/** `/v1/users/{id}` with `{ id: 7 }` -> `/v1/users/7`; the query as FastAPI reads it (a list
 * is the name repeated; null and undefined are left out). */
export function buildPath(
  path: string,
  params: RequestInitBase["params"] = {},
): string {
  const pathParams = params.path ?? {};
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParams[name];
    if (value === undefined || value === null) {
      throw new TypeError(`path parameter "${name}" of ${path} is missing`);
    }
    return encode(value as Scalar);
  });
  const pairs: string[] = [];
  for (const [name, raw] of Object.entries(params.query ?? {})) {
    const value = raw as QueryValue;
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      pairs.push(`${encodeURIComponent(name)}=${encode(item as Scalar)}`);
    }
  }
  return pairs.length ? `${filled}?${pairs.join("&")}` : filled;
}

function defaultFetch(): FetchLike {
  const found = (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof found !== "function") {
    throw new TypeError(
      "no global fetch here: pass createClient({ fetch }) (in a mini program: createWxFetch(wx.request))",
    );
  }
  return found.bind(globalThis) as FetchLike;
}

async function bodyOf(response: ResponseLike): Promise<unknown> {
  if (response.status === 204 || response.status === 205) return undefined;
  const text = await response.text();
  if (text === "") return undefined;
  const type = response.headers.get("content-type");
  return type !== null && /[/+]json\b/i.test(type) ? (JSON.parse(text) as unknown) : text;
}

async function problemOf(response: ResponseLike): Promise<ProblemError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // An answer cut short still says its status.
  }
  return problemFrom(
    response.status,
    response.statusText ?? "",
    response.headers.get("content-type"),
    text,
    response.headers.get("x-request-id"),
  );
}

function isAbort(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

export function createClient(options: ClientOptions = {}): Client {
  const baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
  const send: FetchLike = (url, init) => (options.fetch ?? defaultFetch())(url, init);
  let refreshing: Promise<string | null> | null = null;

  /** One refresh for everyone who asks while it runs. */
  function refreshOnce(refresh: () => Promise<string | null>): Promise<string | null> {
    refreshing ??= (async () => {
      try {
        return await refresh();
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function attempt(
    method: string,
    url: string,
    init: RequestInitBase,
    token: string | null,
  ): Promise<ResponseLike> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const language = options.language?.();
    if (language) headers["Accept-Language"] = language;
    if (token) headers.Authorization = `Bearer ${token}`;
    const request: RequestLike = { method: method.toUpperCase(), headers };
    if (init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      request.body = JSON.stringify(init.body);
    }
    Object.assign(headers, init.headers);
    if (init.signal) request.signal = init.signal;
    try {
      return await send(url, request);
    } catch (error) {
      if (isAbort(error) || error instanceof ProblemError) throw error;
      throw new ProblemError({
        status: 0,
        code: "network_error",
        title: "The service could not be reached",
        detail: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
  }

  function refused(problem: ProblemError): never {
    options.onUnauthorized?.(problem);
    throw problem;
  }

  async function request(method: string, path: string, init: RequestInitBase = {}): Promise<unknown> {
    const url = baseUrl + buildPath(path, init.params);
    const token = options.getToken?.() || null;
    const response = await attempt(method, url, init, token);
    if (response.status >= 200 && response.status < 300) return bodyOf(response);
    const problem = await problemOf(response);
    if (response.status !== 401 || token === null) throw problem;
    if (!options.refresh || !REFRESHABLE.has(problem.code)) refused(problem);

    // Refreshed by another request since this one was sent: use that token, no new refresh.
    const current = options.getToken?.() || null;
    let fresh: string | null;
    try {
      fresh = current !== null && current !== token ? current : await refreshOnce(options.refresh);
    } catch (error) {
      if (error instanceof ProblemError && error.status === 401) refused(error);
      throw error;
    }
    if (!fresh) refused(problem);
    const retried = await attempt(method, url, init, fresh);
    if (retried.status >= 200 && retried.status < 300) return bodyOf(retried);
    const again = await problemOf(retried);
    if (again.status === 401) refused(again);
    throw again;
  }

  const method =
    (name: string) =>
    (path: string, init?: RequestInitBase): Promise<unknown> =>
      request(name, path, init);
  return {
    GET: method("GET"),
    POST: method("POST"),
    PUT: method("PUT"),
    PATCH: method("PATCH"),
    DELETE: method("DELETE"),
    request,
    baseUrl,
    fetch: send,
  } as Client;
}
