"""Instagram webhooks: Meta's subscription check and its signed deliveries.

A delivery is checked against its signature before anything reads it, split
into messaging items by Instagram account, and, for each organization that
connected one of those accounts, turned into ``instagram.message_received``
events in one transaction with its sealed copy (:mod:`.service`). How a
consumer opens the sealed fields of those events is told in :mod:`.events`.
"""
