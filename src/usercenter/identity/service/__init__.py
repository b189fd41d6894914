"""The identity rules, one capability a module: each class takes the caller's session and
flushes at most (the route's unit of work commits; see `usercenter.db`).

- `context`       what every capability shares: identifiers (blind index, ciphertext), the code
                  stores, the login throttle, the user row lookup
- `user_views`    the cached view of a user (the hot path of GET /v1/me); the views
                  themselves are `identity.views`
- `accounts`      users as other modules and staff see them: create, look up, search,
                  disable, enable, a staff unbind
- `sessions`      opening a session after a proof, refreshing it, logging out
- `codes`         sending SMS and e-mail codes (through the courier)
- `registration`  registering with a username or e-mail and a password
- `login`         logging in by SMS code or password (the lockout)
- `passwords`     changing and resetting a password
- `profile`       the current user's profile: read, change
- `provider_proofs` asking a login provider who the caller is (signed state of web flows)
- `links`         adding and removing one login identity of a user (unionids, the change log)
- `provider_login` logging in through a provider, the mini program's phone, unionid merging
- `bindings`      binding, rebinding and unbinding the current user's login methods
"""
