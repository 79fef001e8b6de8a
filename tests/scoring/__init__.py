"""Helpers for the scoring tests: small notices and profiles written inline, and the real recorded ones."""
