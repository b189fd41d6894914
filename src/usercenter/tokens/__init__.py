"""Sessions per device, signed access tokens (JWKS), rotating refresh tokens, introspection."""
