/**
 * For the business's Node.js services: verify usercenter access tokens offline, against the
 * keys it publishes at /.well-known/jwks.json (fetched once, then again when an unknown `kid`
 * appears: a rotated key is picked up by itself).
 *
 * Offline verification accepts a token until it expires even if its session was ended meanwhile
 * (logout, a disabled user); where that must count at once, ask /v1/oauth/introspect.
 */

import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { JWTPayload } from "jose";

export interface JwtVerifierOptions {
  /** e.g. `https://uc.example.com/.well-known/jwks.json` */
  jwksUrl: string | URL;
  /** USERCENTER_TOKEN_ISSUER (default `usercenter`). */
  issuer?: string;
  /** USERCENTER_TOKEN_AUDIENCE (default `usercenter`). */
  audience?: string | string[];
  /** USERCENTER_TOKEN_ALGORITHM: `ES256` (default), `RS256` or `EdDSA`. */
  algorithms?: string[];
  /** Accept staff (back-office) tokens too; by default only users' tokens pass. */
  allowStaff?: boolean;
  /** Seconds of clock difference tolerated on `exp`/`iat` (default 5, as the service). */
  clockTolerance?: number;
  /** How long fetched keys are trusted, in ms (jose's default: 10 minutes). */
  cacheMaxAge?: number;
}

/** The claims of a usercenter access token. */
export interface AccessClaims extends JWTPayload {
  /** The internal id as a string (`staff:<id>` for staff). */
  sub: string;
  /** The public user id. */
  uid?: string;
  /** The session. */
  sid: string;
  /** The platform the session logged in on (MINI_PROGRAM, APP, WEB…). */
  plat?: string;
  iss: string;
  iat: number;
  exp: number;
  jti: string;
  /** How the login was proved (RFC 8176), when told. */
  amr?: string[];
}

export interface VerifiedToken {
  claims: AccessClaims;
  /** The internal user (or staff) id. */
  userId: number;
  isStaff: boolean;
}

/** A token refused: `code` as the service would say it (`token_expired` or `token_invalid`). */
export class TokenVerificationError extends Error {
  readonly code: "token_expired" | "token_invalid";
  readonly status = 401;

  constructor(code: "token_expired" | "token_invalid", message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TokenVerificationError";
    this.code = code;
  }
}

const STAFF_PREFIX = "staff:";
const REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid", "jti"];

export interface JwtVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const keys = createRemoteJWKSet(
    typeof options.jwksUrl === "string" ? new URL(options.jwksUrl) : options.jwksUrl,
    options.cacheMaxAge === undefined ? {} : { cacheMaxAge: options.cacheMaxAge },
  );
  const issuer = options.issuer ?? "usercenter";
  const audience = options.audience ?? "usercenter";
  const algorithms = options.algorithms ?? ["ES256"];
  const clockTolerance = options.clockTolerance ?? 5;

  return {
    async verify(token: string): Promise<VerifiedToken> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer,
          audience,
          algorithms,
          clockTolerance,
          requiredClaims: REQUIRED_CLAIMS,
        }));
      } catch (error) {
        if (error instanceof errors.JWTExpired) {
          throw new TokenVerificationError("token_expired", "the token has expired", error);
        }
        if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
          throw error; // the keys could not be had: not the token's fault
        }
        if (error instanceof errors.JOSEError) {
          throw new TokenVerificationError("token_invalid", `the token is not valid: ${error.code}`, error);
        }
        throw error; // the JWKS could not be fetched (network): not the token's fault
      }
      const claims = payload as AccessClaims;
      const isStaff = claims.sub.startsWith(STAFF_PREFIX);
      const userId = Number(isStaff ? claims.sub.slice(STAFF_PREFIX.length) : claims.sub);
      if (!Number.isSafeInteger(userId) || typeof claims.sid !== "string") {
        throw new TokenVerificationError("token_invalid", "the token's subject is not valid");
      }
      if (isStaff && !options.allowStaff) {
        throw new TokenVerificationError("token_invalid", "a staff token where a user's is expected");
      }
      return { claims, userId, isStaff };
    },
  };
}
