"""Introduction: the web explorer — a static app every node serves at ``/explorer``.

The explorer is HTML, CSS and plain ES modules shipped in this package (``static/``); no build
step runs at install. It reads the chain only through the node's public REST API, like any
client, so it shows nothing the API does not serve, and its verify page checks receipts and
evidence certificates in the browser against a genesis with no trust in the node (the same
checks as ``yulian.sdk.verify``).

``mount(app, genesis=...)`` is the one entry point: it serves the static files under
``/explorer/``, redirects ``/`` and ``/explorer`` there, and serves the chain's genesis file
at ``/explorer/genesis.json`` so the verify page can offer it (a court or auditor uploads the
genesis it got from the consortium instead; the page shows the hash of whichever it uses).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from yulian.types.genesis import Genesis

PREFIX = "/explorer"
GENESIS_PATH = f"{PREFIX}/genesis.json"


class ExplorerFiles(StaticFiles):
    """The static files, each answered with ``Cache-Control: no-cache``: the browser keeps
    them but revalidates (a 304 by ETag), so after a node upgrade no page mixes modules of
    two versions."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = "no-cache"
        return response


def static_dir() -> Path:
    """The directory of the explorer's files inside the installed package."""
    return Path(str(resources.files(__package__).joinpath("static")))


def mount(app: FastAPI, genesis: Genesis | None = None) -> None:
    """Serve the explorer on ``app``: ``/explorer/`` (the app), ``/`` and ``/explorer``
    (redirects), and ``/explorer/genesis.json`` when ``genesis`` is given."""

    async def to_explorer() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    app.add_api_route("/", to_explorer, methods=["GET"], include_in_schema=False)
    app.add_api_route(PREFIX, to_explorer, methods=["GET"], include_in_schema=False)
    if genesis is not None:
        body = genesis.to_json().encode("utf-8")

        async def genesis_file() -> Response:
            return Response(body, media_type="application/json")

        app.add_api_route(GENESIS_PATH, genesis_file, methods=["GET"], include_in_schema=False)
    app.mount(PREFIX, ExplorerFiles(directory=static_dir(), html=True), name="explorer")
