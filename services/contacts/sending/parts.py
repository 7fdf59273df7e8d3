"""Meta's limit on a message's text, and splitting a long text to fit it."""

from __future__ import annotations

import re

# Meta refuses a text message over 1,000 bytes of UTF-8, whatever its length
# in characters.
TEXT_LIMIT_BYTES = 1000
_SENTENCE_END = re.compile("(?<=[.!?\u2026\u3002\uff01\uff1f])\\s+")


def fits(text: str) -> bool:
    return len(text.encode()) <= TEXT_LIMIT_BYTES


def split_text(text: str) -> list[str]:
    """``text`` in parts that each fit the limit, cut between sentences.

    A sentence too long for one part is cut between words, and a word too
    long between characters, never inside a character.
    """
    parts: list[str] = []
    for piece in _pieces(text.strip()):
        if parts and fits(f"{parts[-1]} {piece}"):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def _pieces(text: str) -> list[str]:
    """The sentences of ``text``, those over the limit cut smaller."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if fits(sentence):
            pieces.append(sentence)
            continue
        for word in sentence.split():
            pieces.extend([word] if fits(word) else _by_characters(word))
    return pieces


def _by_characters(word: str) -> list[str]:
    cuts = [""]
    for character in word:
        if not fits(cuts[-1] + character):
            cuts.append("")
        cuts[-1] += character
    return cuts
