"""Shared protections: masking of personal data (hashing and field encryption follow)."""
