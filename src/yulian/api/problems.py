"""Introduction: RFC 9457 problem details with stable codes.

Every refused request answers ``application/problem+json`` with ``type``
(``urn:yulian:problem:<code>``), ``title``, ``status``, ``detail`` and the extension member
``code``; clients branch on ``code``, never on ``detail``. Some problems carry more extension
members (``archived`` names the archive file, ``api/archived.py``). ``docs/api.md`` lists the
codes.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

PROBLEM_TYPE_PREFIX = "urn:yulian:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    def __init__(
        self, code: str, status: int, detail: str, extra: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status
        self.detail = detail
        self.extra = dict(extra or {})  # extension members (RFC 9457 section 3.2)


def problem_response(
    code: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Response:
    body = {
        **(extra or {}),
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
    }
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )
