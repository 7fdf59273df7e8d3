"""Opt-out and opt-in requests in inbound direct messages.

:func:`classify` reads one inbound text and answers ``"opt_out"``, ``"opt_in"``
or ``None``. It is pure Python with no model and no network, cheap enough to
run on every inbound message. Its words live in
:mod:`services.contacts.optout_phrases`; the labelled set in
``tests/contacts/optout_labelled.jsonl`` measures it.

Normalisation (:func:`fold`), applied to the message and assumed of the words:

1. NFKD, then case folding: full-width and styled letters ("𝐒𝐓𝐎𝐏") become
   plain ones, and "ß" becomes "ss".
2. Combining marks are dropped, which removes Latin accents, Turkish cedillas
   and breves, the Cyrillic breve of "й" (so it reads "и") and the diaeresis of
   "ё", and Arabic vowel signs and hamza marks (so "أ", "إ", "آ" read "ا").
   Turkish "ı", Arabic "ى", "ة", "ی", "ک" and the tatweel are mapped by hand.
3. Every character that is not a letter or a digit (punctuation, apostrophes,
   hyphens, emoji, symbols) becomes a space, and runs of spaces become one:
   "Don't!!! 🙏" reads "don t", "opt-out" reads "opt out".
4. A letter repeated three times or more counts once: "stoooop" reads "stop",
   "pleeease" reads "please". Doubled letters stay, as spelling needs them.

The keyword rule: the message is an opt-out (or opt-in) when, once politeness,
greetings and "now" (``FILLERS``: "please", "por favor", "bitte", "lütfen",
"пожалуйста", "من فضلك"...) are taken out and repeats are merged ("stop stop"),
what remains is exactly one keyword: "STOP", "Unsubscribe please 🙏",
"baja", "Stopp!", "ret", "стоп", "توقف". The English standard keywords (STOP,
STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, OPT OUT) hold whatever
the language of the conversation; each other language adds its own words for
stop and unsubscribe. A keyword inside a sentence is not enough: "what happens
if I reply STOP?" and "cancel my order" are ordinary messages.

The phrase rule: otherwise the message is an opt-out when it contains a plain
request to stop, written for each language as a regular expression: "stop
messaging me", "don't text me again", "take me off your list", "leave me
alone"; "dejen de escribirme", "não me mandem mais mensagens", "arrêtez de
m'envoyer des messages", "hören Sie auf, mir zu schreiben", "smettetela di
scrivermi", "stuur me geen berichten meer", "bana mesaj atmayın", "jangan kirim
pesan lagi", "перестаньте мне писать", "توقفوا عن ارسال الرسائل". A request
needs both the stopping and its object, messages or the person, so "I can't
stop smiling" and "the end of the month" pass. A few patterns hold across
languages: "stop" with a word for messages ("stop spam", "stop pub", "STOP
kirim promo"), and a stop keyword followed by its reason ("STOPP. Ich habe
mich nie angemeldet", "stop, no me interesa"). Not a request: a negated one
("don't stop messaging me", "no dejes de escribirme"), a past one ("why did
you stop messaging me?"), one about a time or channel ("don't text me at
work"), one about a single thing ("dejen de enviarme el catálogo viejo").

Opt-in works the same way with START, UNSTOP and their equivalents ("alta",
"anmelden", "старт") as keywords, and phrases such as "you can message me
again". A bare YES, SÍ, JA or EVET is not an opt-in: it answers questions all
day. When a message holds both an opt-in and an opt-out phrase, opt-in wins, as
its phrases are the more specific ("start messaging me again").

What it deliberately does not catch, as each would silence customers who did
not ask for it: translations of CANCEL, END and QUIT, and words for "enough"
(basta, chega, yeter, хватит), standing alone; a keyword followed by other
words that give no reason ("stop, you're making me blush"); complaints without
a request ("this is spam"); emoji alone (🛑, ✋). What it cannot catch: requests
worded in a way no pattern foresaw (on messages written after the patterns
were fixed, precision held and recall was lower, about three in four), and
requests in other languages or scripts (Persian, Urdu, Latin-script Russian).
It reads the text only: "stop it 😂" after a compliment is still an opt-out,
and a member can set the state back by hand.
"""

# The docstring and folds name letters of several scripts on purpose.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

from services.contacts.optout_phrases import (
    FILLERS,
    KEYWORDS_IN,
    KEYWORDS_OUT,
    PHRASES_IN,
    PHRASES_OUT,
)

Decision = Literal["opt_out", "opt_in"]

_LETTER_FOLDS = str.maketrans(
    {"ı": "i", "ى": "ي", "ی": "ي", "ة": "ه", "ک": "ك", "ـ": None, "ł": "l", "ø": "o"}
)
# Instagram caps a message at 1,000 characters; reading at most this many keeps
# the cost of a forged, huge text to a few milliseconds.
_LONGEST_READ = 4_000
_NOT_A_WORD = re.compile(r"[\W_]+")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")


def fold(text: str) -> str:
    """The message as the detector reads it: see the module's normalisation."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_A_WORD.sub(" ", bare.translate(_LETTER_FOLDS)).strip()
    return _LONG_RUN.sub(r"\1", words)


def _word_set(table: Mapping[str, str]) -> frozenset[str]:
    return frozenset(word for words in table.values() for word in words.split("|"))


def _any_of(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _every_phrase(table: Mapping[str, tuple[str, ...]]) -> re.Pattern[str]:
    return _any_of(pattern for patterns in table.values() for pattern in patterns)


_FILLER = re.compile(
    r"\b(?:" + "|".join(sorted(_word_set(FILLERS), key=len, reverse=True)) + r")\b"
)
_OPT_OUT_WORDS = _word_set(KEYWORDS_OUT)
_OPT_IN_WORDS = _word_set(KEYWORDS_IN)
_OPT_OUT_PHRASE = _every_phrase(PHRASES_OUT)
_OPT_IN_PHRASE = _every_phrase(PHRASES_IN)


def classify(text: str) -> Decision | None:
    """Whether an inbound message asks to stop messages, to resume them, or neither."""
    folded = fold(text[:_LONGEST_READ])

    keyword = _lone_keyword(folded)
    if keyword in _OPT_OUT_WORDS:
        return "opt_out"
    if keyword in _OPT_IN_WORDS:
        return "opt_in"

    if _OPT_IN_PHRASE.search(folded):
        return "opt_in"
    if _OPT_OUT_PHRASE.search(folded):
        return "opt_out"
    return None


def _lone_keyword(folded: str) -> str:
    """What is left of a message without its fillers, repeats merged."""
    words = _FILLER.sub(" ", folded).split()
    merged = [word for i, word in enumerate(words) if i == 0 or word != words[i - 1]]
    return " ".join(merged)
