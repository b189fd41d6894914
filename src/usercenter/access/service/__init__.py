"""The rules of access control, one capability a module:

- `permissions`: what a subject holds (`effective`, `is_allowed`), memoised per process and
  invalidated across processes on change; the privilege ceiling.
- `rbac`: the permission tree, roles and grants (scoped to an agency or merchant).
- `staff`: staff accounts.
- `staff_auth`: staff login, TOTP, recovery codes, logout.
- `staff_users`: the staff view of a user, masked unless revealed, and what staff do to users.
"""
