"""Logs are one JSON object a line and never carry secrets or personal data."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from shared.context import bind_log_context, bind_request, clear_context
from shared.logging import configure_logging


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    configure_logging("contacts", "INFO", "json")
    clear_context()
    bind_request("req-0001-abcd")
    bind_log_context(org_id="org-1")
    log = structlog.get_logger("probe")
    log.info(
        "contact.updated",
        password="hunter2",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        token="EAAB-secret",
        contact_count=3,
    )
    address = "ada@" + "example.com"
    try:
        # The value reaches the message at run time, as a real one would.
        raise ValueError(f"{address} is taken")
    except ValueError:
        log.exception("contact.update_failed")
    logging.getLogger("library").warning("plain %s", "stdlib")
    clear_context()
    structlog.reset_defaults()
    captured = capsys.readouterr().err.strip().splitlines()
    return [json.loads(line) for line in captured]


def test_each_line_is_json_with_service_request_and_organization(
    lines: list[dict[str, object]],
) -> None:
    first = lines[0]
    assert first["event"] == "contact.updated"
    assert first["service"] == "contacts"
    assert first["request_id"] == "req-0001-abcd"
    assert first["org_id"] == "org-1"
    assert first["contact_count"] == 3


def test_secrets_and_personal_data_are_never_written(
    lines: list[dict[str, object]],
) -> None:
    text = json.dumps(lines)
    for leaked in ("hunter2", "ada@example.com", "EAAB-secret", "7946"):
        assert leaked not in text


def test_an_exception_keeps_its_type_and_frames_but_not_its_message(
    lines: list[dict[str, object]],
) -> None:
    failure = lines[1]
    assert failure["exception_type"] == "ValueError"
    assert "test_logging.py" in str(failure["stack"])


def test_standard_library_records_share_the_format(
    lines: list[dict[str, object]],
) -> None:
    assert lines[2]["event"] == "plain stdlib"
    assert lines[2]["service"] == "contacts"
