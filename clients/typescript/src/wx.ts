/**
 * A fetch over `wx.request` for WeChat mini programs (no fetch there), for
 * `createClient({ fetch: createWxFetch(wx.request) })` and `createTokenRefresher`.
 */

import type { FetchLike, ResponseLike } from "./client.js";

/** The part of wx.request's options used here (see the mini program's API). */
export interface WxRequestOptions {
  url: string;
  method: string;
  header: Record<string, string>;
  data?: string;
  dataType: string;
  responseType: "text";
  success: (result: {
    statusCode: number;
    data: unknown;
    header: Record<string, string>;
  }) => void;
  fail: (error: { errMsg: string }) => void;
}

export interface WxRequestTask {
  abort(): void;
}

export function createWxFetch(
  request: (options: WxRequestOptions) => WxRequestTask | void,
): FetchLike {
  return (url, init) =>
    new Promise<ResponseLike>((resolve, reject) => {
      if (init.signal?.aborted) {
        reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
        return;
      }
      const options: WxRequestOptions = {
        url,
        method: init.method,
        header: init.headers,
        // Not "json": the body is parsed by the client, as with fetch.
        dataType: "text",
        responseType: "text",
        success: ({ statusCode, data, header }) => {
          const headers = new Map(
            Object.entries(header ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
          );
          const body = typeof data === "string" ? data : data == null ? "" : JSON.stringify(data);
          resolve({
            status: statusCode,
            statusText: "",
            headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
            text: () => Promise.resolve(body),
          });
        },
        fail: ({ errMsg }) => {
          const aborted = /abort/i.test(errMsg);
          reject(Object.assign(new Error(errMsg), aborted ? { name: "AbortError" } : {}));
        },
      };
      if (init.body !== undefined) options.data = init.body;
      const task = request(options);
      init.signal?.addEventListener("abort", () => task?.abort(), { once: true });
    });
}
