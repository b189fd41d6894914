"""Dictionaries, configuration and client apps shared by the whole service (seed 004 §9)."""
