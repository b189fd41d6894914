"""`python -m usercenter.providers.stubs`: serve every stub (as `usercenter stubs` does)."""

from usercenter.providers.stubs.running import main

main()
