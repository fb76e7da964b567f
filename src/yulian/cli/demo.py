"""Introduction: ``yulian demo`` — the applications' stories on a local network; ``make run``.

On a network directory (made here, with 4 organisations and one validator each, if it does
not exist yet; otherwise the one the README's walkthrough left behind) it prints the explorer's
URL first, starts every node that is not running (``node.network.start_network``: only this
network's own nodes count), and plays the stories of ``yulian.apps.stories``: ``yulian demo
NAME`` one of them in full, ``yulian demo`` every one in brief (evidence, a governance vote, a
traced tea batch, a receivable, an attestation, a trade), so the chain it leaves running has
something real of each for the explorer to show. Each step says who acts, from which
organisation, and what the chain answered. It prints the API and docs URLs and keeps the
network running until Ctrl-C; ``yulian demo --list`` names the stories.

It watches and reaps the node processes it started: one that dies is reported at once (and
``network status`` sees it down); at the end it stops exactly those, and leaves running the
ones that were running before. It picks identities the chain still accepts — a revoked or
expired client is skipped, and when an organisation has none left its CA issues one — and
says precisely what to do when it cannot go on, never with a traceback.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import NETWORK_OPT, fail, network_dir, say, tell

DEMO_ORGS = 4
EXIT_DEMO_FAILED = 1
EXIT_START_FAILED = 2
WATCH_INTERVAL_S = 0.2


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    story: str | None = typer.Argument(
        None, help="the story to play in full (see --list) [default: every story, in brief]"
    ),
    list_stories: bool = typer.Option(False, "--list", help="name the stories and stop"),
    network: Path | None = NETWORK_OPT,
    exit_after: bool = typer.Option(False, "--exit", help="stop the nodes after the demo"),
    api_port: int = typer.Option(8600, "--api-port", help="a new network's first API port"),
    p2p_port: int = typer.Option(0, "--p2p-port", help="default: the API port + 1000"),
) -> None:
    """Play the applications' stories on a local 4-organisation consortium, keep it up.

    `yulian demo` (make run) plays every story in brief, `yulian demo NAME` one in full.
    It prints the explorer's URL first, then each step: who acts, from which
    organisation, what the chain answered; at the end every node's API and docs URL.
    Ctrl-C stops the nodes it started."""
    from yulian.apps.stories import STORIES

    if list_stories:
        width = max(len(name) for name in STORIES)  # the titles start in one column
        for name, known in STORIES.items():
            say(f"  {known.title}", lead=f"{name:<{width}}")
        return
    if story is not None and story not in STORIES:
        fail(f"no story {story!r}; the stories are: {', '.join(STORIES)} (yulian demo --list)")
    raise typer.Exit(
        run_demo(
            network_dir(network),
            story=story,
            exit_after=exit_after,
            api_port=api_port,
            p2p_port=p2p_port,
        )
    )


def run_demo(
    network: Path,
    *,
    story: str | None = None,
    exit_after: bool,
    api_port: int = 8600,
    p2p_port: int = 0,
    orgs: int = DEMO_ORGS,
) -> int:
    import httpx

    from yulian.apps.deploy import DeployError
    from yulian.apps.shared import AppError
    from yulian.apps.stories import StoryError
    from yulian.node.config import ConfigError
    from yulian.node.network import network_down, start_network
    from yulian.node.process import NodeProcessError
    from yulian.pki.files import PkiError
    from yulian.sdk import ApiError, VerificationError
    from yulian.sdk.governance import GovernanceError

    try:
        created = _create_if_missing(network, orgs, api_port, p2p_port or api_port + 1000)
        say(
            f"  {explorer_url(network)}   (the chain's activity, once the nodes are up)",
            lead="explorer",
        )
        if created:
            say(created, lead="created")
        started = start_network(network, progress=lambda m: say(f"  {m}"))
    except (PkiError, ConfigError, NodeProcessError, OSError) as e:
        tell(str(e), lead="error: ", style="bold red")
        return EXIT_START_FAILED
    try:
        _show(network, started, story)
        if exit_after:
            return 0
        say("network running; press Ctrl-C to stop it")
        _watch(network, started)
        return 0
    except (
        StoryError,
        DeployError,
        AppError,
        ApiError,
        GovernanceError,
        VerificationError,
        PkiError,
        httpx.HTTPError,
    ) as e:
        tell(str(e), lead="the demo stopped: ", style="bold red")
        return EXIT_DEMO_FAILED
    finally:
        network_down(network, progress=lambda m: say(f"  {m}"), only=started.started.keys())
        for proc in started.started.values():
            proc.poll()  # reaped, whatever happened
        others = [n for n in _node_names(network) if n not in started.started]
        if others and _any_running(network, others):
            say(f"left running (they were running before the demo): {', '.join(others)}")


def explorer_url(network: Path) -> str:
    """The explorer of the network's first node (every node serves one)."""
    from yulian.node.config import load_config
    from yulian.pki.layout import load_layout

    return f"{load_config(load_layout(network).nodes[0].config).api_url}/explorer/"


def _create_if_missing(network: Path, orgs: int, api_port: int, p2p_port: int) -> str:
    """Make the network if there is none; what was made, or ''."""
    from yulian.node.bootstrap import init_network

    if (network / "genesis.json").exists():
        return ""
    init_network(
        network, orgs=orgs, validators=orgs, base_api_port=api_port, base_p2p_port=p2p_port
    )
    return (
        f" a {orgs}-organisation consortium in {network} ({orgs} validators, one per organisation)"
    )


def _show(network: Path, started: Any, story: str | None) -> None:
    from yulian.apps.stories import STORIES, Stage
    from yulian.pki.layout import load_genesis, load_layout
    from yulian.sdk import Client
    from yulian.sdk.governance import consortium_config

    layout = load_layout(network)
    doors = _validator_urls(layout, started.urls)
    with Client(doors[0]) as reader:
        config = consortium_config(reader)
    members = [o for o in config["organisations"] if (network / "orgs" / o).is_dir()]
    own_node = {
        n.org: url for n, url in zip(layout.nodes, started.urls, strict=True) if url in doors
    }
    stage = Stage(
        network=network,
        urls=doors,
        genesis=load_genesis(network),
        members=members,
        revoked={r["cert_id"] for r in config["revocations"]},
        say=say,
        node_of=own_node,
    )
    try:
        for name, known in STORIES.items():
            if story is None or name == story:
                known.play(stage, story is None)
    finally:
        stage.close()
    say("")
    say(f"  {explorer_url(network)}", lead="explorer")
    for node, url in zip(layout.nodes, started.urls, strict=True):
        say(f"  API {url}/v1/health   docs {url}/docs", lead=node.name)
    say(f"  {layout.genesis}   logs {network / 'logs'}", lead="genesis")


def _validator_urls(layout: Any, urls: list[str]) -> list[str]:
    """The URLs of the nodes that are validators now (an added organisation's node that is not
    one yet may still be syncing), in directory order."""
    from yulian.node.process import fetch_health

    health = fetch_health(urls[0]) or {}
    names = health.get("validators")
    if not isinstance(names, list):
        return urls
    doors = [u for n, u in zip(layout.nodes, urls, strict=True) if n.name in names]
    return doors or urls


def _watch(network: Path, started: Any) -> None:
    """Until SIGINT/SIGTERM: reap every node this demo started that exits, and say so."""
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    reported: set[str] = set()
    while not stop:
        for name, proc in started.started.items():
            if name not in reported and proc.poll() is not None:
                reported.add(name)
                _report_exit(network, name, proc)
        time.sleep(WATCH_INTERVAL_S)


def _report_exit(network: Path, name: str, proc: subprocess.Popen[bytes]) -> None:
    from yulian.node.network import log_path, pid_path
    from yulian.pki.layout import load_layout

    layout = load_layout(network)
    pid_path(layout, name).unlink(missing_ok=True)
    code = proc.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tell(
        f" (pid {proc.pid}) {how}; log {log_path(layout, name)}. The other nodes keep running; "
        f"start it again with `yulian network up --network {network}`",
        lead=name,
        style="bold red",
    )


def _node_names(network: Path) -> list[str]:
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_layout

    try:
        return [n.name for n in load_layout(network).nodes]
    except PkiError:
        return []


def _any_running(network: Path, names: list[str]) -> bool:
    from yulian.node.network import node_pid
    from yulian.pki.layout import load_layout

    layout = load_layout(network)
    return any(node_pid(layout, n) is not None for n in names)
