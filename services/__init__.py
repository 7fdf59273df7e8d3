"""The four Ojime services; each package has the same shape (see README)."""
