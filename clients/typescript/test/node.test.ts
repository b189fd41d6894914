import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createJwtVerifier, TokenVerificationError } from "../src/node.js";

let server: Server;
let jwksUrl: string;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let jwksRequests = 0;
const KID = "k-test-1";

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "ES256", use: "sig" };
  server = createServer((request, response) => {
    if (request.url === "/.well-known/jwks.json") {
      jwksRequests += 1;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: [jwk] }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A token as usercenter signs it (tokens/access_tokens.py). */
async function token(
  overrides: Record<string, unknown> = {},
  options: { key?: CryptoKey; kid?: string; lifetime?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: "usercenter",
    aud: "usercenter",
    sub: "42",
    uid: "U42",
    sid: "s-1",
    plat: "MINIAPP",
    iat: now,
    exp: now + (options.lifetime ?? 900),
    jti: "j-1",
    ...overrides,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? KID })
    .sign(options.key ?? privateKey);
}

describe("createJwtVerifier", () => {
  it("verifies a user's access token against the published keys", async () => {
    const verifier = createJwtVerifier({ jwksUrl });

    const verified = await verifier.verify(await token());

    expect(verified.userId).toBe(42);
    expect(verified.isStaff).toBe(false);
    expect(verified.claims).toMatchObject({ sub: "42", uid: "U42", sid: "s-1", plat: "MINIAPP" });
  });

  it("fetches the keys once for many tokens", async () => {
    const verifier = createJwtVerifier({ jwksUrl, issuer: "usercenter", audience: "usercenter" });
    const before = jwksRequests;

    for (let i = 0; i < 5; i += 1) await verifier.verify(await token({ jti: `j-${i}` }));

    expect(jwksRequests - before).toBe(1);
  });

  it("refuses a token for another audience or issuer", async () => {
    const verifier = createJwtVerifier({ jwksUrl, audience: "shop" });

    await expect(verifier.verify(await token())).rejects.toMatchObject({
      name: "TokenVerificationError",
      code: "token_invalid",
      status: 401,
    });
    await expect(
      createJwtVerifier({ jwksUrl }).verify(await token({ iss: "someone-else" })),
    ).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("refuses an expired token as token_expired", async () => {
    const verifier = createJwtVerifier({ jwksUrl });
    const now = Math.floor(Date.now() / 1000);

    const error = await verifier
      .verify(await token({ iat: now - 1000, exp: now - 60 }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TokenVerificationError);
    expect(error).toMatchObject({ code: "token_expired" });
  });

  it("refuses a token signed by another key, an unknown kid, or a claim missing", async () => {
    const verifier = createJwtVerifier({ jwksUrl });

    await expect(verifier.verify(await token({}, { key: otherKey }))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(verifier.verify(await token({}, { kid: "unknown" }))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(verifier.verify(await token({ sid: undefined }))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(verifier.verify("not.a.token")).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("refuses a staff token unless told to accept them", async () => {
    const staffToken = await token({ sub: "staff:7" });

    await expect(createJwtVerifier({ jwksUrl }).verify(staffToken)).rejects.toMatchObject({ code: "token_invalid" });
    await expect(createJwtVerifier({ jwksUrl, allowStaff: true }).verify(staffToken)).resolves.toMatchObject({
      userId: 7,
      isStaff: true,
    });
  });

  it("refuses an algorithm it was not told to accept", async () => {
    const verifier = createJwtVerifier({ jwksUrl, algorithms: ["RS256"] });

    await expect(verifier.verify(await token())).rejects.toMatchObject({ code: "token_invalid" });
  });
});
