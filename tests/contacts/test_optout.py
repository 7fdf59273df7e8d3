"""Opt-out detection, measured on a labelled set of messages in eleven languages.

``optout_labelled.jsonl`` holds one message a line: its language, its text as
people write it, and the label a native speaker gives it (``opt_out``,
``opt_in`` or null), hard negatives included: "I can't stop smiling", "cancel
my order", "what happens if I reply STOP?".
"""

# Letters of other scripts, and look-alikes, are what these tests feed in.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.contacts import optout_phrases
from services.contacts.optout import Decision, classify, fold

LABELLED = Path(__file__).with_name("optout_labelled.jsonl")
LANGUAGES = {"en", "es", "pt", "fr", "de", "it", "nl", "tr", "id", "ru", "ar"}
BAR = 0.98
DECISIONS: tuple[Decision, ...] = ("opt_out", "opt_in")


@dataclass(frozen=True)
class Labelled:
    language: str
    text: str
    label: Decision | None


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    support: int


def _labelled() -> list[Labelled]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Labelled(row["lang"], row["text"], row["label"]) for row in rows]


def _score(label: Decision, pairs: list[tuple[Labelled, Decision | None]]) -> Score:
    found = sum(1 for row, got in pairs if got == label)
    right = sum(1 for row, got in pairs if got == label == row.label)
    wanted = sum(1 for row, _ in pairs if row.label == label)
    return Score(right / found if found else 0.0, right / wanted, wanted)


def _report(scores: dict[Decision, Score], total: int) -> Iterator[str]:
    yield f"opt-out detection over {total} labelled messages"
    for label, score in scores.items():
        yield (
            f"  {label:<8} precision {score.precision:.3f}"
            f"  recall {score.recall:.3f}  ({score.support} messages)"
        )


def test_the_labelled_set_spans_every_language_and_label() -> None:
    rows = _labelled()

    assert len(rows) >= 300
    assert {row.language for row in rows} == LANGUAGES
    for language in LANGUAGES:
        labels = [row.label for row in rows if row.language == language]
        assert {"opt_out", "opt_in", None} <= set(labels), language
        assert labels.count(None) >= 8, language


def test_opt_out_and_opt_in_are_found_with_precision_and_recall_of_98(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _labelled()

    pairs = [(row, classify(row.text)) for row in rows]
    scores: dict[Decision, Score] = {label: _score(label, pairs) for label in DECISIONS}

    with capsys.disabled():
        print("\n" + "\n".join(_report(scores, len(rows))))
    mistakes = [(row.text, row.label, got) for row, got in pairs if got != row.label]
    for score in scores.values():
        assert score.precision >= BAR, mistakes
        assert score.recall >= BAR, mistakes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("𝐒𝐓𝐎𝐏", "opt_out"),
        ("Stoooooop!!! 🙏🙏", "opt_out"),
        ("stop stop STOP", "opt_out"),
        ("  unsubscribe\n", "opt_out"),
        ("ARRÊTEZ", "opt_out"),
        ("arretez", "opt_out"),
        ("Отпишите меня", "opt_out"),
        ("أوقفوا", "opt_out"),
    ],
)
def test_case_accents_punctuation_emoji_and_repeats_do_not_matter(
    text: str, expected: Decision | None
) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize("text", ["", "🛑", "İptal", "basta", "chega!", "Хватит"])
def test_words_that_are_often_something_else_are_left_alone(text: str) -> None:
    assert classify(text) is None


@pytest.mark.parametrize(
    "answer", ["yes", "YES!", "sí", "sim", "oui", "ja", "evet", "iya", "да", "نعم"]
)
def test_a_bare_yes_is_not_an_opt_in(answer: str) -> None:
    assert classify(answer) is None


def test_a_negated_request_to_stop_is_no_request() -> None:
    assert classify("Please don't stop messaging me!") is None
    assert classify("No dejes de escribirme") is None
    assert classify("Не переставайте мне писать!") is None


def test_a_request_at_the_end_of_the_longest_instagram_message_is_found() -> None:
    chatter = "I loved the jacket but the sleeves were long. " * 21

    assert len(chatter + "Please stop messaging me.") <= 1_000
    assert classify(chatter + "Please stop messaging me.") == "opt_out"
    assert classify(chatter) is None


def test_every_word_and_phrase_is_written_as_messages_are_folded() -> None:
    tables = (
        optout_phrases.KEYWORDS_OUT,
        optout_phrases.KEYWORDS_IN,
        optout_phrases.FILLERS,
    )
    words = [
        word for table in tables for text in table.values() for word in text.split("|")
    ]
    phrases = [
        pattern
        for table in (optout_phrases.PHRASES_OUT, optout_phrases.PHRASES_IN)
        for patterns in table.values()
        for pattern in patterns
    ]
    letters = [run for pattern in phrases for run in re.findall(r"[^\W\d_]+", pattern)]

    assert [word for word in words if fold(word) != word] == []
    assert [run for run in letters if fold(run) != run] == []
