"""Organizations: the Instagram connection, the team, the API token,
integrations, billing and the audit log."""
