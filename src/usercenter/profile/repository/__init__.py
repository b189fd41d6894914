"""Every SQL statement of the profile module, one file per capability."""
