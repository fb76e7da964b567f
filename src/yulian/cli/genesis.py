"""Introduction: ``yulian genesis assemble / show / accept`` — the genesis ceremony's shared
steps (``pki.ceremony``, ``node.ceremony``).

One party assembles the genesis from every organisation's export (``yulian org export``) and
publishes the file and its hash; every organisation reads the hash to the others over a trusted
channel, checks the file with ``genesis show`` and ``genesis accept``s it, after which its nodes
run that genesis and no other.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import NETWORK_OPT, fail, load_genesis_file, network_dir, print_json

genesis_app = typer.Typer(
    help="Assemble, inspect and accept a genesis (the founding ceremony)", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(genesis_app, name="genesis")


@genesis_app.command("assemble")
def genesis_assemble(
    exports: list[Path] = typer.Argument(..., help="the organisations' export files, in order"),
    out: Path = typer.Option(..., "--out", help="where to write the genesis (must not exist)"),
    chain_id: str = typer.Option(..., "--chain-id", help="the chain's name (1..64 bytes)"),
    block_interval_ms: int = typer.Option(200, "--block-interval-ms"),
) -> None:
    """Build the genesis from the organisations' exports, checking every certificate
    against the CA that exported it; prints its hash, which every organisation compares
    before it accepts. Organisations keep the order given; their validators alternate."""
    from yulian.node.bootstrap import DEFAULT_POLICIES
    from yulian.pki.ceremony import OrgExport, assemble_genesis
    from yulian.pki.chain import ChainIdentity
    from yulian.pki.files import PkiError, write_public
    from yulian.types.genesis import ChainParams, GenesisError

    try:
        loaded = [OrgExport.from_json(_read(path), str(path)) for path in exports]
        params = ChainParams(block_interval_ms=block_interval_ms)
        params.check()
        genesis = assemble_genesis(
            loaded,
            chain_id=chain_id,
            time_ms=int(time.time()) * 1000,
            params=params,
            policies=DEFAULT_POLICIES,
        )
        write_public(out, genesis.to_json().encode("utf-8"))
    except FileExistsError:
        fail(f"{out} exists; a genesis is never overwritten")
    except (PkiError, GenesisError, OSError) as e:
        fail(str(e))
    print_json({"genesis": str(out), **_summary(genesis, ChainIdentity.of(genesis).genesis_hash)})


@genesis_app.command("show")
def genesis_show(genesis: Path = typer.Argument(..., help="a genesis file")) -> None:
    """The genesis hash and what it founds: organisations, validators and their power."""
    from yulian.pki.chain import ChainIdentity
    from yulian.pki.files import PkiError

    loaded = load_genesis_file(genesis)
    try:
        print_json(_summary(loaded, ChainIdentity.of(loaded).genesis_hash))
    except PkiError as e:
        fail(str(e))


@genesis_app.command("accept")
def genesis_accept(
    genesis: Path = typer.Argument(..., help="the assembled genesis file"),
    expected: str = typer.Option(
        ..., "--hash", help="the genesis hash, as the organisations agreed it"
    ),
    network: Path | None = NETWORK_OPT,
    join: bool = typer.Option(
        False,
        "--join",
        help="the organisation is not a founder: it joins the running chain by an add_org vote",
    ),
) -> None:
    """Check the genesis for the organisation(s) of --network (its hash; a founder's CA and
    validators exactly as exported) and accept it: install it and pin its hash in every
    node config there, so those nodes refuse any other genesis."""
    from yulian.node.ceremony import accept_genesis
    from yulian.pki.files import PkiError

    loaded = load_genesis_file(genesis)
    try:
        accepted = accept_genesis(network_dir(network), loaded, expected, join=join)
    except PkiError as e:
        fail(str(e))
    print_json(
        {
            "accepted": accepted.genesis_hash,
            "checked": list(accepted.checks),
            "configs": [str(c) for c in accepted.configs],
        }
    )


def _read(path: Path) -> bytes:
    from yulian.pki.files import PkiError

    try:
        return path.read_bytes()
    except OSError as e:
        raise PkiError(f"cannot read {path}: {e.strerror or e}") from None


def _summary(genesis: Any, genesis_hash: str) -> dict[str, Any]:
    total = genesis.total_power()
    return {
        "hash": genesis_hash,
        "chain_id": genesis.chain_id,
        "suite": genesis.suite,
        "time_ms": genesis.time_ms,
        "organisations": [o.name for o in genesis.organisations],
        "validators": [
            {"name": v.name, "org": v.org, "power": v.power, "address": v.address}
            for v in genesis.validators
        ],
        "total_power": total,
        "quorum_power": total * 2 // 3 + 1,
    }
