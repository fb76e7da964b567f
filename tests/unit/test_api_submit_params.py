"""The fast path of ``POST /v1/txs`` parses ``wait`` and ``timeout`` as the documented route."""

from __future__ import annotations

import pytest

from yulian.api.problems import Problem
from yulian.api.submit import submit_params as _submit_params


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", (False, 10.0)),
        (b"wait=true", (True, 10.0)),
        (b"wait=1&timeout=2.5", (True, 2.5)),
        (b"wait=False&timeout=0", (False, 0.0)),
        (b"wait=on&wait=off", (False, 10.0)),  # the last value wins, as in FastAPI
        (b"timeout=-3", (False, 0.0)),  # clamped to 0..60
        (b"timeout=1e9", (False, 60.0)),
        (b"timeout=inf", (False, 60.0)),
    ],
)
def test_params(query: bytes, expected: tuple[bool, float]) -> None:
    assert _submit_params(query) == expected


@pytest.mark.parametrize("query", [b"wait=maybe", b"wait=", b"timeout=soon", b"timeout=nan"])
def test_bad_params_are_problems(query: bytes) -> None:
    with pytest.raises(Problem) as e:
        _submit_params(query)
    assert e.value.status == 400 and e.value.code == "malformed_request"
