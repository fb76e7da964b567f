"""Introduction: what every ``yulian`` command shares — output, options, failures, and the node
it talks to.

Output: rich on a terminal; when stdout is not one (a pipe, a file, a CI log) nothing is
wrapped or cut at 80 columns and JSON is printed plain, so URLs, tx ids and JSON documents
survive intact.

The node: every command that talks to a node is pointed at a network directory
(``--network DIR``, default ``.yulian/network``) and optionally at a node (``--url``).
Without ``--url`` it takes the first node in the directory's own configs that is serving this
network; with ``--url`` it checks that the node there serves the directory's chain (chain id
and genesis hash) before trusting it. A read-only command given only ``--url`` and no network
directory talks to that node as it is. Failures print one ``error:`` line to stderr and exit
non-zero: 1 in general, 3 when the chain refused the call (a reverted tx), 4 when an offline
verification fails.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

T = TypeVar("T")

DEFAULT_NETWORK = Path(".yulian/network")
NON_TERMINAL_WIDTH = 10_000  # "no wrapping" for rich, which needs some width
EXIT_FAILED = 1
EXIT_REFUSED = 3  # the chain refused: a reverted tx, a refused or failed proposal
EXIT_UNVERIFIED = 4
HEALTH_PROBE_S = 2.0
EXPIRY_WARNING_DAYS = 30  # `network status` warns about certificates ending this soon


def make_console(stderr: bool = False) -> Console:
    """A console that wraps for a terminal's width, and not at all for anything else."""
    console = Console(stderr=stderr, soft_wrap=True)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, soft_wrap=True, width=NON_TERMINAL_WIDTH)


console = make_console()
err = make_console(stderr=True)

NETWORK_OPT = typer.Option(
    None,
    "--network",
    "-n",
    help="network directory made by `yulian network init` [default: .yulian/network]",
    show_default=False,
)
URL_OPT = typer.Option(
    None,
    "--url",
    help="API URL of a node [default: the first node of --network that is serving]",
    show_default=False,
)
GENESIS_OPT = typer.Option(
    None,
    "--genesis",
    "-g",
    help="the chain's genesis.json [default: the one of --network]",
    show_default=False,
)
ORG_OPT = typer.Option("org1", "--org", help="organisation of the signing identity")
USER_OPT = typer.Option(
    "client1", "--user", help="identity in the organisation: client<k>, admin, ..."
)
ADMIN_OPT = typer.Option(
    "admin", "--user", help="identity that signs: an admin of --org (only admins may vote)"
)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    tell(message, lead="error: ", style="bold red")
    raise typer.Exit(code)


def say(text: str, *, lead: str = "", style: str = "bold") -> None:
    """A line on stdout: ``lead`` in ``style``, then ``text`` exactly as given (never read as
    markup: it may hold a contract's message or a path with brackets)."""
    console.print(Text.assemble((lead, style), text), highlight=False)


def tell(text: str, *, lead: str = "", style: str = "bold") -> None:
    """As ``say``, on stderr (errors, warnings, what is down)."""
    err.print(Text.assemble((lead, style), text), highlight=False)


def print_json(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    if console.is_terminal:
        console.print_json(text)
    else:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def parse_args_json(text: str) -> list[Any]:
    """A JSON array of contract arguments (``{"$bytes": hex}`` for bytes)."""
    from yulian.types.jsonvalue import from_json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"ARGS must be a JSON array: {e}")
    if not isinstance(value, list):
        fail("ARGS must be a JSON array, e.g. '[\"a\", 1]'")
    try:
        result: list[Any] = from_json(value)
    except ValueError as e:
        fail(str(e))
    return result


def network_dir(network: Path | None) -> Path:
    return DEFAULT_NETWORK if network is None else network


def is_network_dir(path: Path) -> bool:
    return (path / "genesis.json").is_file()


def require_network(network: Path | None) -> Path:
    """The network directory to use; fails clearly when it is not one."""
    root = network_dir(network)
    if not is_network_dir(root):
        fail(
            f"{root} is not a network directory (no genesis.json); make one with "
            "`yulian network init --network DIR` or pass --network DIR"
        )
    return root


def load_genesis(network: Path | None) -> Any:
    """The genesis of the network directory."""
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_genesis as load

    root = require_network(network)
    try:
        return load(root)
    except PkiError as e:
        fail(str(e))


def connect(
    network: Path | None,
    url: str | None,
    *,
    org: str | None = None,
    user: str | None = None,
) -> Any:
    """A ``Client`` for a node that serves the network it was pointed at.

    With ``org``/``user`` the client signs as that member of the network directory.
    """
    from yulian.sdk import Client

    uses_directory = network is not None or url is None or org is not None
    if not uses_directory:
        assert url is not None
        return Client(url)  # a read-only call at a node named by URL alone
    root = require_network(network)
    url = node_url(root, url)
    wallet = None
    if org is not None:
        wallet = load_wallet(root, org, user or "client1")
    trust = None
    if url.startswith("https:"):  # the node's certificate, checked against the genesis
        from yulian.sdk.tls import NodeTrust

        trust = NodeTrust.for_genesis(load_genesis(root))
    return Client(url, wallet, trust=trust)


def node_url(network: Path | None, url: str | None) -> str:
    """The API URL of a node that serves the network directory: ``url``, checked, or the
    first serving node of the directory's own configs."""
    root = require_network(network)
    identity = _identity(root)
    if url is None:
        return find_serving_node(root, identity)
    url = url.rstrip("/")
    check_serves(url, root, identity)
    return url


def load_wallet(root: Path, org: str, user: str) -> Any:
    from yulian.sdk import Wallet

    try:
        return Wallet.from_network(root, org, user)
    except KeyError as e:
        fail(f"no identity {org}/{user} in {root}: {e.args[0]}")
    except (OSError, ValueError) as e:
        fail(f"cannot load identity {org}/{user} from {root}: {e}")


def find_serving_node(root: Path, identity: Any) -> str:
    """The API URL of the first node in ``root``'s configs that serves this network."""
    from yulian.node.config import ConfigError, load_config
    from yulian.node.process import fetch_health
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_layout

    try:
        layout = load_layout(root)
        configs = [(n.name, load_config(n.config)) for n in layout.nodes]
    except (PkiError, ConfigError) as e:
        fail(str(e))
    reasons = []
    for name, cfg in configs:
        health = fetch_health(cfg.api_url, HEALTH_PROBE_S)
        problem = "not answering" if health is None else identity.mismatch(health, name)
        if problem is None:
            return cfg.api_url
        reasons.append(f"{name} at {cfg.api_url}: {problem}")
    fail(
        f"no node of the network in {root} is serving ({'; '.join(reasons) or 'no nodes'}). "
        f"Start it with `yulian network up --network {root}`, or pass --url URL"
    )


def check_serves(url: str, root: Path, identity: Any) -> None:
    """Fail unless the node at ``url`` serves the chain of ``root``."""
    from yulian.node.process import fetch_health

    health = fetch_health(url, HEALTH_PROBE_S)
    if health is None:
        fail(f"cannot reach a node at {url} (GET {url}/v1/health)")
    problem = identity.mismatch(health)
    if problem is not None:
        fail(
            f"the node at {url} does not serve the network in {root}: {problem}. "
            f"Point --url at a node of this network, or drop --url to use one from {root}"
        )


def _identity(root: Path) -> Any:
    from yulian.pki.chain import ChainIdentity
    from yulian.pki.files import PkiError

    try:
        return ChainIdentity.load(root)
    except PkiError as e:
        fail(str(e))


def call(fn: Callable[[], T]) -> T:
    """``fn()``; the SDK's refusals and connection errors become one ``error:`` line."""
    import httpx

    from yulian.sdk import ApiError

    try:
        return fn()
    except ApiError as e:
        fail(str(e))
    except httpx.HTTPError as e:
        fail(f"cannot reach the node: {e}")


def governed(fn: Callable[[], dict[str, Any]]) -> None:
    """Run a governance write and print the proposal; exit 3 if the chain refused the call or
    the approved proposal could not be applied (status ``failed``)."""
    from yulian.sdk.governance import GovernanceError

    try:
        proposal = call(fn)
    except GovernanceError as e:
        fail(f"{e.call} refused: {e.message or e.status}", EXIT_REFUSED)
    print_json(proposal)
    if proposal.get("status") == "failed":
        fail(f"proposal {proposal.get('id')} failed: {proposal.get('note', '')}", EXIT_REFUSED)


def read_cert(path: Path) -> Any:
    """The certificate in ``path`` (PEM or DER), parsed."""
    from yulian.pki.files import PkiError, read_certificate

    try:
        return read_certificate(path)
    except PkiError as e:
        fail(str(e))


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"cannot read {path}: {e}")


def genesis_path(genesis: Path | None, network: Path | None) -> Path:
    """``--genesis FILE`` if given, else the genesis of ``--network DIR``."""
    return genesis if genesis is not None else network_dir(network) / "genesis.json"


def load_genesis_file(path: Path) -> Any:
    from yulian.types.genesis import Genesis, GenesisError

    try:
        return Genesis.load(path)
    except (OSError, GenesisError, ValueError) as e:
        fail(f"cannot load genesis {path}: {e}")


def expiry_warnings(network: Path, within_days: int = EXPIRY_WARNING_DAYS) -> list[str]:
    """One line per certificate of ``network`` that ends within ``within_days``."""
    from datetime import UTC, datetime

    from yulian.pki.members import expiring_certificates

    now = datetime.now(UTC)
    lines = []
    for c in expiring_certificates(network, within_days, now):
        days = (c.not_after - now).total_seconds() / 86400
        when = f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"
        lines.append(
            f"warning: certificate {c.org}/{c.name} ({c.role}) {when} "
            f"({c.not_after:%Y-%m-%d %H:%M} UTC): {c.path}"
        )
    return lines
