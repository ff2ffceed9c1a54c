"""Every payload form job_service understands, and the reasons it gives for the rest."""

import json

import pytest

from job_service.payload import MAX_BODY_BYTES, InvalidPayload, MaintenanceJob, parse_payload

R2D2 = MaintenanceJob("R2-D2", "Oil Change")


@pytest.mark.parametrize(
    "body",
    [
        b'{"droid": "R2-D2", "task": "Oil Change"}',
        b'"R2-D2:Oil Change"',
        b'{"@type": "type.googleapis.com/google.protobuf.StringValue",'
        b' "value": "R2-D2:Oil Change"}',
        b'  {"droid": " R2-D2 ", "task": "Oil Change", "extra": 1}  ',
    ],
)
def test_accepted_forms(body):
    assert parse_payload(body) == R2D2


def test_run_key_is_kept():
    body = b'{"droid": "R2-D2", "task": "Oil Change", "run": 42}'
    assert parse_payload(body) == MaintenanceJob("R2-D2", "Oil Change", "42")


def test_unicode_names_are_fine():
    body = json.dumps({"droid": "K-2SO ✨", "task": "Ölwechsel"}).encode()
    assert parse_payload(body) == MaintenanceJob("K-2SO ✨", "Ölwechsel")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   ", "empty body"),
        (b"{bad", "not JSON"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"42", "expected a JSON object or string, got int"),
        (b"[1, 2]", "expected a JSON object or string, got list"),
        (b"null", "got NoneType"),
        (b'"R2-D2 Oil Change"', 'expected "<droid>:<task>"'),
        (b'":Oil Change"', "droid is empty"),
        (b'"R2-D2:"', "task is empty"),
        (b'{"droid": "R2-D2"}', 'expected {"droid"'),
        (b'{"droid": 7, "task": "Oil Change"}', 'expected {"droid"'),
        (
            b'{"@type": "type.googleapis.com/google.protobuf.Int32Value", "value": 1}',
            "unsupported @type",
        ),
        (b'{"@type": "type.googleapis.com/google.protobuf.StringValue"}', 'string "value"'),
        (json.dumps({"droid": "R2\x00D2", "task": "x"}).encode(), "control characters"),
        (json.dumps({"droid": "R" * 201, "task": "x"}).encode(), "longer than 200"),
        (b'"' + b"x" * MAX_BODY_BYTES + b'"', "larger than"),
        (b'{"droid": "R2-D2", "task": "Oil", "run": true}', '"run" must be'),
        (b'{"droid": "R2-D2", "task": "Oil", "run": ""}', '"run" must be'),
        (b'{"droid": "R2-D2", "task": "Oil", "run": [1]}', '"run" must be'),
    ],
)
def test_rejected_with_a_reason(body, reason):
    with pytest.raises(InvalidPayload) as error:
        parse_payload(body)
    assert reason in str(error.value)
    assert "\n" not in str(error.value)  # one line
