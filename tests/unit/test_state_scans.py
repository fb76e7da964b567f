"""Ordered scans of a contract's state (``ctx.state.scan``, ``ctx.state.range``) and composite
keys (``ctx.key``, ``ctx.split_key``): the order, the pages and their cursors, the layers a scan
sees (committed, earlier in the block, earlier in the tx, the invocation's own writes, a call's
journal), the namespace, the charges, and the overlay's merge against a model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.contracts import BlockInfo, MemoryState, Sender, TxInfo, compile_contract
from yulian.contracts.costs import BYTES_PER_STEP, SCAN_ENTRY_STEPS, SCAN_STEPS
from yulian.contracts.keys import compose_key, split_key
from yulian.contracts.meter import Meter
from yulian.contracts.ranges import MAX_SCAN_LIMIT, prefix_end
from yulian.devkit import Harness
from yulian.execution.overlay import Overlay, scan_mapping, state_key
from yulian.ledger import BlockCommit, open_ledger
from yulian.types.encoding import encode, to_plain

STORE = """
def put_all(ctx, pairs):
    for pair in pairs:
        ctx.state.put(pair[0], pair[1])

def delete_all(ctx, keys):
    for key in keys:
        ctx.state.delete(key)

def scan(ctx, prefix, limit, after):
    return ctx.state.scan(prefix, limit, after)

def range_(ctx, start, end, limit, after):
    return ctx.state.range(start, end, limit, after)

def all_keys(ctx, prefix, limit):
    keys = []
    after = None
    while True:
        page = ctx.state.scan(prefix, limit, after)
        keys.extend([item[0] for item in page["items"]])
        after = page["next"]
        if after is None:
            return keys

def write_then_scan(ctx, prefix):
    ctx.state.put(prefix + "new", "mine")
    ctx.state.delete(prefix + "b")
    ctx.state.put(prefix + "c", "changed")
    return ctx.state.scan(prefix)

def write_then_fail(ctx, key):
    ctx.state.put(key, 1)
    ctx.require(False, "no")

def orders(ctx, org):
    return [ctx.split_key(item[0]) for item in ctx.state.scan(ctx.key("order", org))["items"]]

def add_order(ctx, org, order_id):
    ctx.state.put(ctx.key("order", org, order_id), {"org": org})
"""

NEIGHBOUR = """
def put(ctx, key):
    ctx.state.put(key, "neighbour")
"""


@pytest.fixture
def h() -> Harness:
    return Harness(
        ["org1"], contracts=[("store", STORE), ("stor", NEIGHBOUR), ("storex", NEIGHBOUR)]
    )


def items(page: dict[str, Any]) -> list[str]:
    return [key for key, _ in page["items"]]


def test_keys_come_in_the_order_of_their_utf8_bytes_with_their_values(h: Harness) -> None:
    alice = h.member("org1", "alice")
    keys = ["k/z", "k/é", "k/a", "k/😀", "k/\u4e2d", "k/A", "k/", "k/a/b", "j", "l"]
    h.ok(alice, "store", "put_all", [[k, i] for i, k in enumerate(keys)])
    page = h.query("store", "scan", "k/", 64, None)
    expected = sorted((k for k in keys if k.startswith("k/")), key=lambda k: k.encode())
    assert items(page) == expected
    assert items(page) == sorted(expected)  # str order is the UTF-8 bytes' order
    assert page["items"][0] == ["k/", keys.index("k/")]
    assert page["next"] is None


def test_pages_follow_their_cursor_to_the_last_key(h: Harness) -> None:
    alice = h.member("org1", "alice")
    keys = [f"p/{i:03}" for i in range(23)]
    h.ok(alice, "store", "put_all", [[k, 1] for k in keys])
    first = h.query("store", "scan", "p/", 10, None)
    assert items(first) == keys[:10] and first["next"] == keys[9]
    second = h.query("store", "scan", "p/", 10, first["next"])
    assert items(second) == keys[10:20] and second["next"] == keys[19]
    last = h.query("store", "scan", "p/", 10, second["next"])
    assert items(last) == keys[20:] and last["next"] is None
    exact = h.query("store", "scan", "p/", 23, None)
    assert len(exact["items"]) == 23 and exact["next"] is None  # no empty page after a full one
    assert h.query("store", "all_keys", "p/", 4) == keys


def test_a_range_is_start_inclusive_end_exclusive(h: Harness) -> None:
    alice = h.member("org1", "alice")
    keys = [f"t/{i:02}" for i in range(10)]
    h.ok(alice, "store", "put_all", [[k, 1] for k in keys])
    assert items(h.query("store", "range_", "t/03", "t/07", 64, None)) == keys[3:7]
    assert items(h.query("store", "range_", "t/035", None, 64, None)) == keys[4:]
    assert items(h.query("store", "range_", "t/03", "t/07", 64, "t/04")) == keys[5:7]
    assert items(h.query("store", "range_", "", "t/02", 64, None)) == keys[:2]


def test_a_scan_sees_the_tx_the_block_and_the_committed_state_but_no_other_contract(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    h.ok(alice, "store", "put_all", [["s/a", "committed"], ["s/b", "committed"], ["s/c", "c"]])
    h.ok(alice, "stor", "put", "e/s/x")  # "stor" + NUL + "e/s/x": another namespace
    h.ok(alice, "storex", "put", "s/x")
    earlier = h.tx(alice, "store", "put_all", [["s/d", "earlier in the block"]])
    deleted = h.tx(alice, "store", "delete_all", ["s/a"])
    scan = h.tx(alice, "store", "write_then_scan", "s/")
    *_, result = h.block(earlier, deleted, scan)
    assert result.value == {
        "items": [["s/c", "changed"], ["s/d", "earlier in the block"], ["s/new", "mine"]],
        "next": None,
    }
    assert items(h.query("store", "scan", "", 64, None)) == ["s/c", "s/d", "s/new"]


def test_a_failed_tx_leaves_nothing_a_later_scan_could_see(h: Harness) -> None:
    alice = h.member("org1", "alice")
    failed = h.tx(alice, "store", "write_then_fail", "f/1")
    scan = h.tx(alice, "store", "scan", "f/", 64, None)
    first, second = h.block(failed, scan)
    assert first.status == "reverted" and second.value == {"items": [], "next": None}


def test_composite_keys_list_one_organisations_orders_in_order(h: Harness) -> None:
    alice = h.member("org1", "alice")
    for org, order in [("org10", "1"), ("org1", "b"), ("org1", "a"), ("org2", "z"), ("org", "x")]:
        h.ok(alice, "store", "add_order", org, order)
    assert h.query("store", "orders", "org1") == [["order", "org1", "a"], ["order", "org1", "b"]]
    assert h.query("store", "orders", "org") == [["order", "org", "x"]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("ctx.state.scan('k', 0)", "a scan's limit must be an int in 1..256"),
        (f"ctx.state.scan('k', {MAX_SCAN_LIMIT + 1})", "a scan's limit must be an int in 1..256"),
        ("ctx.state.scan('k', True)", "a scan's limit must be an int in 1..256"),
        ("ctx.state.scan(1)", "a scan's prefix must be a str"),
        ("ctx.state.scan('k' * 257)", "a scan's prefix is longer than 256 bytes"),
        ("ctx.state.scan('\\ud800')", "text is not valid UTF-8 (a lone surrogate)"),
        ("ctx.state.range('a', 5)", "a scan's end must be a str"),
        ("ctx.state.scan('k', 5, 7)", "a scan's cursor must be a str"),
        ("ctx.key()", "a composite key has 1..32 parts"),
        ("ctx.key('a', 1)", "composite key parts are str"),
        ("ctx.key('a\\x00b')", "composite key parts cannot hold NUL ('\\x00')"),
        ("ctx.split_key('plain')", "not a composite key: it must end with NUL ('\\x00')"),
    ],
)
def test_bad_scan_and_key_arguments_are_named_faults(call: str, message: str) -> None:
    contract = compile_contract("bad", f"def run(ctx):\n    return {call}\n")
    outcome = invoke(contract, MemoryState())
    assert (outcome.status, outcome.message) == ("fault", f"InvalidValue: {message}")


def invoke(contract: Any, state: Any, *args: Any, method: str = "run") -> Any:
    return contract.invoke(
        method,
        list(args),
        sender=Sender("org1", "client", "c1"),
        block=BlockInfo(1, 0),
        tx=TxInfo("00"),
        state=state,
    )


def test_a_scan_pays_per_key_examined_deleted_ones_included_and_per_byte() -> None:
    source = (
        "def run(ctx, n, deleted):\n"
        "    for i in range(n):\n"
        "        ctx.state.put('k' + str(1000 + i), 'v' * 64)\n"
        "    for i in range(deleted):\n"
        "        ctx.state.delete('k' + str(1000 + i))\n"
        "    return 0\n"
        "def scan(ctx, n, deleted):\n"
        "    run(ctx, n, deleted)\n"
        "    ctx.state.scan('k', 1)\n"
        "    return 0\n"
    )
    contract = compile_contract("s", source)

    def cost(n: int, deleted: int) -> int:
        setup = invoke(contract, MemoryState(), n, deleted)
        scanned = invoke(contract, MemoryState(), n, deleted, method="scan")
        return int(scanned.steps - setup.steps)

    base = cost(1, 0)  # one live key returned, nothing after it
    # key 'k1000' (5 bytes), value 'v' * 64 (66 bytes encoded)
    entry = SCAN_ENTRY_STEPS + (5 + 66) // BYTES_PER_STEP
    assert cost(2, 0) == base + entry  # the look-ahead key is examined and paid for
    # every deleted key before the first live one is examined, and paid for
    assert cost(12, 10) == base + entry + 10 * (SCAN_ENTRY_STEPS + 5 // BYTES_PER_STEP)
    assert base > SCAN_STEPS


def test_prefix_end_is_above_every_key_with_the_prefix() -> None:
    assert prefix_end("") is None
    assert prefix_end("ab") == "ac"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff") is None
    assert prefix_end("a\ud7ff") == "a\ue000"  # past the surrogates no key can hold


def test_the_committed_state_may_be_the_lmdb_ledger(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "ledger", sync=False)
    committed = sorted(
        (state_key("c", k), v)
        for k, v in [("a", b"\x01"), ("b", b"\x02"), ("c", b"\x03"), ("d", b"\x04")]
    )
    other = [(state_key("cc", "a"), b"\x09")]
    ledger.commit_block(
        BlockCommit(
            1, b"h" * 32, b"block", b"commit", (), (), tuple(sorted(committed + other)), b"r" * 32
        )
    )
    overlay = Overlay(ledger, 2)
    overlay.begin_tx()
    overlay.put(state_key("c", "bb"), b"\x05")
    overlay.delete(state_key("c", "c"))
    prefix = state_key("c", "")
    live = [(k, v) for k, v, _ in overlay.scan(prefix, prefix, None, None, 2) if v is not None]
    assert live == [
        (state_key("c", "a"), b"\x01"),
        (state_key("c", "b"), b"\x02"),
        (state_key("c", "bb"), b"\x05"),
        (state_key("c", "d"), b"\x04"),
    ]
    start = state_key("c", "b")
    ranged = [k for k, v, _ in overlay.scan(prefix, start, state_key("c", "d"), None, 1) if v]
    assert ranged == [state_key("c", "b"), state_key("c", "bb")]
    ledger.close()


# --- the overlay's merge against a model --------------------------------------------------------


class DictView:
    def __init__(self, data: dict[bytes, bytes]) -> None:
        self.data = data

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        return scan_mapping(self.data, prefix, limit, start_after)


KEYS = st.sampled_from([b"c\x00" + k for k in (b"", b"a", b"ab", b"b", b"\xc3\xa9", b"z")])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), KEYS, st.binary(min_size=1, max_size=3)),
        st.tuples(st.just("delete"), KEYS),
        st.tuples(st.sampled_from(["begin_call", "commit_call", "rollback_call"])),
        st.tuples(st.sampled_from(["commit_tx", "rollback_tx", "scan"])),
        st.tuples(st.just("range"), KEYS, st.one_of(st.none(), KEYS), st.one_of(st.none(), KEYS)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    base=st.dictionaries(KEYS, st.binary(min_size=1, max_size=3), max_size=6),
    neighbours=st.dictionaries(st.sampled_from([b"b\x00x", b"c\x01", b"cc\x00a"]), st.just(b"n")),
    ops=OPS,
)
def test_the_overlay_scans_exactly_what_its_layers_hold(
    base: dict[bytes, bytes], neighbours: dict[bytes, bytes], ops: list[tuple[Any, ...]]
) -> None:
    prefix = b"c\x00"
    overlay = Overlay(DictView({**base, **neighbours}), 5)
    layers: list[dict[bytes, bytes | None]] = [dict(base), {}]  # committed, the block, journals
    overlay.begin_tx()
    layers.append({})

    def view() -> dict[bytes, bytes]:
        merged: dict[bytes, bytes | None] = {}
        for layer in layers:
            merged.update(layer)
        return {k: v for k, v in merged.items() if v is not None}

    def check(start: bytes, end: bytes | None, after: bytes | None) -> None:
        got = [(k, v) for k, v, _ in overlay.scan(prefix, start, end, after, 2) if v is not None]
        want = sorted(
            (k, v)
            for k, v in view().items()
            if k >= start and (end is None or k < end) and (after is None or k > after)
        )
        assert got == want
        for key in {k for layer in layers for k in layer}:
            assert overlay.get(key) == view().get(key)

    for op in ops:
        name = op[0]
        if name == "put":
            overlay.put(op[1], op[2])
            layers[-1][op[1]] = op[2]
        elif name == "delete":
            overlay.delete(op[1])
            layers[-1][op[1]] = None
        elif name == "begin_call":
            overlay.begin_call()
            layers.append({})
        elif name in ("commit_call", "rollback_call") and len(layers) > 3:
            inner = layers.pop()
            if name == "commit_call":
                overlay.commit_call()
                layers[-1].update(inner)
            else:
                overlay.rollback_call()
        elif name in ("commit_tx", "rollback_tx"):
            if name == "commit_tx":
                while len(layers) > 3:  # a tx commits with its calls closed
                    inner = layers.pop()
                    overlay.commit_call()
                    layers[-1].update(inner)
                overlay.commit_tx()
                layers[1].update(layers.pop())
            else:
                overlay.rollback_tx()
                del layers[2:]
            overlay.begin_tx()
            layers.append({})
        elif name == "scan":
            check(prefix, None, None)
        elif name == "range":
            start = max(op[1], prefix)
            check(start, op[2], op[3])
    check(prefix, None, None)


# --- an invocation's own writes over the state, against a model ------------------------------

HOST_OPS = """
def run(ctx, ops):
    seen = []
    for op in ops:
        if op[0] == "put":
            ctx.state.put(op[1], op[2])
        elif op[0] == "delete":
            ctx.state.delete(op[1])
        else:
            seen.append(ctx.state.range(op[1], op[2], op[3], op[4]))
    return seen
"""
HOST_KEYS = st.sampled_from(["", "a", "ab", "b", "é", "z", "\U0001f600"])


@settings(max_examples=200, deadline=None)
@given(
    stored=st.dictionaries(HOST_KEYS.filter(bool), st.integers(0, 9), max_size=5),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("put"), HOST_KEYS.filter(bool), st.integers(0, 9)),
            st.tuples(st.just("delete"), HOST_KEYS.filter(bool)),
            st.tuples(
                st.just("range"),
                HOST_KEYS,
                st.one_of(st.none(), HOST_KEYS),
                st.integers(1, 3),
                st.one_of(st.none(), HOST_KEYS),
            ),
        ),
        max_size=25,
    ),
)
def test_a_page_is_what_the_invocation_sees_in_order(
    stored: dict[str, int], ops: list[tuple[Any, ...]]
) -> None:
    state = MemoryState()
    for key, value in stored.items():
        state.put(key, encode(value))
    model = dict(stored)
    expected = []
    for op in ops:
        if op[0] == "put":
            model[op[1]] = op[2]
        elif op[0] == "delete":
            model.pop(op[1], None)
        else:
            _, start, end, limit, after = op
            keys = sorted(
                k
                for k in model
                if k >= start and (end is None or k < end) and (after is None or k > after)
            )
            page = [[k, model[k]] for k in keys[:limit]]
            expected.append({"items": page, "next": keys[limit - 1] if len(keys) > limit else None})
    outcome = invoke(compile_contract("ops", HOST_OPS), state, [list(op) for op in ops])
    assert outcome.status == "ok", outcome.message
    assert to_plain(outcome.value) == expected


@given(
    parts=st.lists(
        st.text(st.characters(blacklist_characters="\x00", codec="utf-8")), min_size=1, max_size=4
    ),
    other=st.lists(
        st.text(st.characters(blacklist_characters="\x00", codec="utf-8")), min_size=1, max_size=4
    ),
)
def test_composite_keys_split_back_sort_as_tuples_and_prefix_only_their_extensions(
    parts: list[str], other: list[str]
) -> None:
    meter = Meter(10**9)
    key, other_key = compose_key(meter, tuple(parts)), compose_key(meter, tuple(other))
    assert split_key(meter, key) == parts
    assert (key < other_key) == (parts < other)
    assert other_key.startswith(key) == (other[: len(parts)] == parts)
