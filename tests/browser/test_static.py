"""The explorer's package side, without a browser: what ``mount`` serves and that the vendored
files are the ones their README names (so a changed library cannot slip in unrecorded)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from yulian.explorer import mount, static_dir
from yulian.types.genesis import Genesis, Organisation, Validator


def small_genesis() -> Genesis:
    return Genesis(
        chain_id="explorer-test",
        suite="standard",
        time_ms=1,
        organisations=(Organisation("org1", b"\x30\x00"),),
        validators=(Validator("v1", "org1", b"\x01" * 32),),
    )


def test_mount_serves_the_app_redirects_and_the_genesis() -> None:
    app = FastAPI()
    genesis = small_genesis()
    mount(app, genesis=genesis)
    client = TestClient(app)
    for path in ("/", "/explorer"):
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "/explorer/")
    page = client.get("/explorer/")
    assert page.status_code == 200
    assert '<script type="module" src="js/main.js">' in page.text
    assert (
        client.get("/explorer/js/verify/verify.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    served = client.get("/explorer/genesis.json")
    assert served.status_code == 200
    assert served.text == genesis.to_json()
    assert client.get("/explorer/no-such-file.js").status_code == 404


def test_without_a_genesis_there_is_no_genesis_file() -> None:
    app = FastAPI()
    mount(app)
    assert TestClient(app).get("/explorer/genesis.json").status_code == 404


def test_vendored_files_are_the_ones_recorded() -> None:
    vendor = static_dir() / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    recorded = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    shipped = {p.name for p in vendor.iterdir() if p.suffix in (".js", ".css")} - {
        "crypto-entry.js",
        "asn1-entry.js",
    }
    assert set(recorded) == shipped
    for name, digest in recorded.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    licences = {p.stem for p in (vendor / "LICENSES").iterdir()}
    assert {"uplot", "sm-crypto-v2", "asn1js", "noble-curves", "noble-hashes"} <= licences


def test_every_text_is_in_both_message_tables() -> None:
    tables = {}
    for lang in ("zh-CN", "en"):
        text = (static_dir() / "js" / "messages" / f"{lang}.js").read_text(encoding="utf-8")
        tables[lang] = set(re.findall(r"^  (\w+): ", text, re.M))
    assert tables["zh-CN"] == tables["en"]
    used: set[str] = set()
    for path in Path(static_dir()).rglob("*"):
        if path.suffix in (".js", ".html") and "vendor" not in path.parts:
            source = path.read_text(encoding="utf-8")
            used |= set(re.findall(r'\bt\("(\w+)"', source))
            used |= set(re.findall(r'data-i18n="(\w+)"', source))
            used |= {
                k
                for pair in re.findall(r'data-i18n-attr="([^"]+)"', source)
                for k in re.findall(r":(\w+)", pair)
            }
    assert used - tables["en"] == set()
