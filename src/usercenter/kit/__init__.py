"""What every module shares: table base, clock, cache, language, ids of no module's own."""
