"""API shapes of the profile module, one file per capability."""
