"""Stand-ins for the parties outside Ojime, served for real on loopback."""
