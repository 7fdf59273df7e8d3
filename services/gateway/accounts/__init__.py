"""Accounts: sign-up, sign-in, sessions, passwords and two-factor login."""
