"""The profile module's rules, one file per capability (no HTTP, no commit)."""
