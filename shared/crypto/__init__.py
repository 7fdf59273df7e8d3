"""Encryption of sensitive columns, per-organization data keys, blind indexes."""
