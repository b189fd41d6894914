"""Who may do what: permissions, roles, scoped grants, staff accounts and the admin action log."""
