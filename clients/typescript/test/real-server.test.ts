/**
 * Against a real `usercenter serve` on a fresh SQLite database in a temp directory: the shapes
 * the unit tests fake are the service's own. Skipped when the usercenter command is not there
 * (USERCENTER_BIN, else the repository's .venv/bin/usercenter).
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { createClient, createTokenRefresher, isProblem, ProblemError, type StoredTokens } from "../src/index.js";
import { createJwtVerifier } from "../src/node.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const bin = process.env.USERCENTER_BIN ?? resolve(here, "../../../.venv/bin/usercenter");
const present = existsSync(bin);
if (!present && process.env.USERCENTER_TEST_REQUIRE_ALL === "1") {
  throw new Error(`${bin} is not there, and USERCENTER_TEST_REQUIRE_ALL=1 forbids skipping`);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

describe.skipIf(!present)("against a real usercenter serve", () => {
  let child: ChildProcess | undefined;
  let scratch = "";
  let baseUrl = "";
  let output = "";

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "uc-client-"));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("USERCENTER_")),
    );
    child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
      cwd: scratch,
      env: { ...env, USERCENTER_DATABASE_URL: `sqlite:///${join(scratch, "uc.db")}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`usercenter serve exited:\n${output}`);
      try {
        if ((await fetch(`${baseUrl}/healthz`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`usercenter serve did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("answers GET /healthz", async () => {
    const api = createClient({ baseUrl });

    await expect(api.GET("/healthz")).resolves.toMatchObject({});
  });

  it("parses the service's 422 problem, in the language asked for", async () => {
    const english = createClient({ baseUrl, language: () => "en" });
    const chinese = createClient({ baseUrl, language: () => "zh-CN" });
    const bad = { body: { login: "", password: "x" } };

    const inEnglish = await english.POST("/v1/auth/password-login", bad).catch((e: unknown) => e);
    const inChinese = await chinese.POST("/v1/auth/password-login", bad).catch((e: unknown) => e);

    expect(inEnglish).toBeInstanceOf(ProblemError);
    const problem = inEnglish as ProblemError;
    expect(problem.status).toBe(422);
    expect(problem.code).toBe("validation_failed");
    expect(problem.requestId).toMatch(/.+/);
    expect(problem.errors.map((error) => error.field)).toContain("login");
    expect(problem.errors.every((error) => error.code !== "" && error.message !== "")).toBe(true);
    expect((inChinese as ProblemError).code).toBe("validation_failed");
    expect((inChinese as ProblemError).title).not.toBe(problem.title);
  });

  it("a request without a token is refused without logging out; a bad token tries one refresh", async () => {
    const onUnauthorized = vi.fn();
    const refresh = vi.fn(async () => null);
    const anonymous = createClient({ baseUrl, onUnauthorized, refresh });
    const stale = createClient({ baseUrl, getToken: () => "not-a-token", onUnauthorized, refresh });

    await expect(anonymous.GET("/v1/me")).rejects.toMatchObject({ status: 401, code: "token_missing" });
    expect(refresh).not.toHaveBeenCalled();
    expect(onUnauthorized).not.toHaveBeenCalled();

    const error = await stale.GET("/v1/me").catch((e: unknown) => e);
    expect(isProblem(error, "token_invalid")).toBe(true);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith(error);
  });

  it("logs in by SMS, verifies the token offline, refreshes the pair and retries", async () => {
    const phone = `139${String(Date.now()).slice(-8)}`;
    let kept: StoredTokens | null = null;
    const tokens = createTokenRefresher({ baseUrl, load: () => kept, save: (t) => (kept = t) });
    const api = createClient({ baseUrl, getToken: tokens.getToken, refresh: tokens.refresh });

    await api.POST("/v1/sms/codes", { body: { phone, purpose: "login" } });
    const masked = `${phone.slice(0, 3)}****${phone.slice(-4)}`;
    let code = "";
    for (let i = 0; i < 50 && !code; i += 1) {
      for (const line of output.split("\n")) {
        if (line.includes("sms_code_sent") && line.includes(masked)) {
          code = String((JSON.parse(line) as { code: string }).code);
        }
      }
      if (!code) await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toMatch(/^\d{6}$/);
    const login = await api.POST("/v1/auth/sms-login", { body: { phone, code, platform: "MINIAPP" } });
    tokens.store(login);
    const first = tokens.getToken();

    const verified = await createJwtVerifier({ jwksUrl: `${baseUrl}/.well-known/jwks.json` }).verify(first!);
    expect(verified.isStaff).toBe(false);
    expect(verified.claims.sid).toBe(login.session_id);
    expect(verified.claims.uid).toBe(login.user.uid);

    // Launched again with a stored access token gone bad: the first call refreshes the pair
    // and is retried.
    kept = { ...kept!, access_token: `${first}x` };
    const relaunched = createTokenRefresher({ baseUrl, load: () => kept, save: (t) => (kept = t) });
    const again = createClient({ baseUrl, getToken: relaunched.getToken, refresh: relaunched.refresh });
    const me = await again.GET("/v1/me");
    expect(me.uid).toBe(login.user.uid);
    expect(relaunched.getToken()).not.toBe(first);
    expect(kept!.access_token).toBe(relaunched.getToken());
    expect(kept!.refresh_token).not.toBe(login.refresh_token);
  });

  it("reads the published keys with the Node verifier", async () => {
    const verifier = createJwtVerifier({ jwksUrl: `${baseUrl}/.well-known/jwks.json` });

    await expect(verifier.verify("eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vbmUifQ.e30.sig")).rejects.toMatchObject({
      code: "token_invalid",
    });
  });
});
