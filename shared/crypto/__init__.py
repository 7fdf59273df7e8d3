"""Encryption of sensitive columns, per-organization data keys, blind indexes.

- :mod:`~shared.crypto.cipher`: AES-GCM values bound to their table, column
  and row; the one format every sealed value has.
- :mod:`~shared.crypto.columns`: token columns sealed with the master key,
  declared once and registered for rotation.
- :mod:`~shared.crypto.data_keys`: each organization's data key for its
  personal data, wrapped by the master key, destroyed on deletion.
- :mod:`~shared.crypto.blind_index`: exact-match lookups of sealed values.
- :mod:`~shared.crypto.rotation`: moving everything to a new master key.
"""
