"""trace (溯源) in the harness: the shipped templates end to end, who may do what, and a
model-based property test — quantities are conserved through any splits and merges, custody
moves only by hand-over and take-over, closed batches never change, and the event log is
append-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import count

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from yulian.apps.shared import AppError
from yulian.apps.trace import TraceApp, contract_source, quantity_text
from yulian.apps.trace.templates import TEMPLATES, roles_of
from yulian.devkit import Harness

ROLES = {
    "farm": "grower",
    "mill": "processor",
    "ship": "logistics",
    "shop": "retailer",
    "lab": "inspector",
    "lift": "manufacturer",
    "fixit": "maintainer",
    "tower": "owner",
    "museum": "museum",
    "gallery": "museum",
    "restorer": "conservator",
}
ORGS = ["gov", *ROLES, "rogue"]


def make_world() -> tuple[Harness, dict[str, TraceApp]]:
    h = Harness(ORGS)
    h.deploy("trace", contract_source(("gov",)))
    gov = TraceApp(h.client(h.admin("gov")))
    gov.install_templates()
    for org, role in ROLES.items():
        gov.grant_role(org, role)
    gov.grant_role("fixit", "installer")
    gov.grant_role("lab", "appraiser")
    apps = {org: TraceApp(h.client(h.member(org))) for org in ORGS}
    return h, apps


@cache
def shared_world() -> tuple[Harness, dict[str, TraceApp]]:
    """One chain for the property test's examples; each example uses batch ids of its own."""
    return make_world()


def test_templates_name_only_roles_and_kinds_the_contract_accepts() -> None:
    apps = make_world()[1]
    for name, template in TEMPLATES.items():
        on_chain = apps["rogue"].conn.query("trace", "get_template", [name])
        assert on_chain["rules"] == template["rules"] and on_chain["create"] == template["create"]
        assert set(roles_of(template)) <= {*ROLES.values(), "installer", "appraiser"}


def test_tea_from_the_tea_garden_to_the_shop_shelf() -> None:
    apps = make_world()[1]
    farm, mill, ship, shop, lab = (apps[o] for o in ("farm", "mill", "ship", "shop", "lab"))
    farm.create("PE-2025-07", "tea", "Menghai raw Pu'er", "1200", "kg", {"garden": "Banzhang"})
    farm.record("PE-2025-07", "harvested", {"pickers": 14})
    lab.record("PE-2025-07", "inspected", {"pesticide": "none detected"})
    farm.hand_over("PE-2025-07", "mill")
    mill.take_over("PE-2025-07")
    mill.record("PE-2025-07", "processed", {"method": "sun-dried"})
    assert mill.split("PE-2025-07", {"PE-2025-07-A": "800", "PE-2025-07-B": "400"}) == [
        "PE-2025-07-A",
        "PE-2025-07-B",
    ]
    mill.hand_over("PE-2025-07-A", "ship")
    ship.take_over("PE-2025-07-A")
    ship.record("PE-2025-07-A", "temperature", {"celsius": 18})
    ship.hand_over("PE-2025-07-A", "shop")
    shop.take_over("PE-2025-07-A")
    shop.record("PE-2025-07-A", "sold", {"receipt": "0001"})

    trace = apps["rogue"].public_trace("PE-2025-07-A")  # anyone reads it
    assert trace["batch"]["status"] == "closed" and trace["batch"]["custodian"] == "shop"
    kinds = [e["kind"] for e in trace["events"]]
    assert kinds == [
        "split_from",
        "handed_over",
        "taken_over",
        "temperature",
        "handed_over",
        "taken_over",
        "sold",
    ]
    (origin,) = trace["origins"]
    assert [e["kind"] for e in origin["events"]][:6] == [
        "created",
        "harvested",
        "inspected",
        "handed_over",
        "taken_over",
        "processed",
    ]
    signers = {e["kind"]: (e["org"], e["role"]) for e in origin["events"]}
    assert signers["inspected"] == ("lab", "inspector") and signers["harvested"] == (
        "farm",
        "grower",
    )
    assert trace["complete"]
    with pytest.raises(AppError, match="is closed"):
        shop.record("PE-2025-07-A", "stocked")


def test_elevator_inspections_repairs_and_certificates() -> None:
    apps = make_world()[1]
    lift, fixit, tower, lab = (apps[o] for o in ("lift", "fixit", "tower", "lab"))
    lift.create("ELV-CQ-0042", "elevator", "Traction elevator, 13 floors", "1", "unit")
    lift.record("ELV-CQ-0042", "manufactured", {"serial": "TX-99812"})
    lift.hand_over("ELV-CQ-0042", "tower")
    tower.take_over("ELV-CQ-0042")
    fixit.record("ELV-CQ-0042", "installed", {"site": "Jiefangbei Tower"})
    tower.record("ELV-CQ-0042", "fault_reported", {"fault": "door sensor"})
    fixit.record("ELV-CQ-0042", "repaired", {"part": "door sensor"})
    lab.record("ELV-CQ-0042", "certified", {"valid_until": "2026-06-30"})
    # the maintainer may not certify; the owner may not repair; nobody outside the roles
    for app, kind in ((fixit, "certified"), (tower, "repaired"), (apps["rogue"], "maintained")):
        with pytest.raises(AppError, match="may not record"):
            app.record("ELV-CQ-0042", kind)
    tower.record("ELV-CQ-0042", "decommissioned")
    assert tower.batch("ELV-CQ-0042")["status"] == "closed"


def test_a_relic_on_loan_to_another_museum_and_back() -> None:
    apps = make_world()[1]
    museum, gallery, restorer, lab = (apps[o] for o in ("museum", "gallery", "restorer", "lab"))
    museum.create("CQ-MUS-1987-003", "relic", "Bronze mirror, Han dynasty", "1", "piece")
    lab.record("CQ-MUS-1987-003", "provenance", {"source": "excavated 1987, Fengdu"})
    restorer.record("CQ-MUS-1987-003", "condition_report", {"state": "stable, minor patina"})
    museum.record("CQ-MUS-1987-003", "loan_agreed", {"to": "gallery", "until": "2025-12-31"})
    museum.hand_over("CQ-MUS-1987-003", "gallery")
    gallery.take_over("CQ-MUS-1987-003")
    gallery.record("CQ-MUS-1987-003", "exhibited", {"hall": "B2"})
    with pytest.raises(AppError, match="only the custodian"):
        museum.record("CQ-MUS-1987-003", "exhibited")
    gallery.hand_over("CQ-MUS-1987-003", "museum")
    museum.take_over("CQ-MUS-1987-003")
    museum.record("CQ-MUS-1987-003", "loan_returned")
    custodians = [e["org"] for e in museum.events("CQ-MUS-1987-003") if e["kind"] == "taken_over"]
    assert custodians == ["gallery", "museum"]


def test_custody_needs_both_signatures_and_a_cancel_stops_a_hand_over() -> None:
    apps = make_world()[1]
    farm, mill, ship = apps["farm"], apps["mill"], apps["ship"]
    farm.create("B1", "tea", "tea", "10", "kg")
    with pytest.raises(AppError, match="not being handed to you"):
        mill.take_over("B1")
    farm.hand_over("B1", "mill")
    with pytest.raises(AppError, match="not being handed to you"):
        ship.take_over("B1")
    with pytest.raises(AppError, match="a hand-over to mill is pending"):
        farm.split("B1", {"B1a": "5", "B1b": "5"})
    farm.cancel_hand_over("B1")
    with pytest.raises(AppError, match="not being handed to you"):
        mill.take_over("B1")
    assert farm.batch("B1")["custodian"] == "farm"


def test_a_roles_attribute_narrows_what_a_member_may_do() -> None:
    h = make_world()[0]
    gov = TraceApp(h.client(h.admin("gov")))
    gov.grant_role("lab", "grower")  # the lab organisation holds two roles
    only_inspector = TraceApp(h.client(h.member("lab", "li", attributes={"roles": "inspector"})))
    with pytest.raises(AppError, match="may not create"):
        only_inspector.create("X1", "tea", "tea", "1", "kg")
    TraceApp(h.client(h.member("lab", "both"))).create("X1", "tea", "tea", "1", "kg")
    only_inspector.record("X1", "inspected")
    with pytest.raises(AppError, match="only an admin of a governing organisation"):
        TraceApp(h.client(h.admin("lab"))).grant_role("rogue", "grower")
    gov.revoke_role("lab", "inspector")
    with pytest.raises(AppError, match="may not record inspected"):
        only_inspector.record("X1", "inspected")


def test_bad_input_is_refused_with_a_named_error_and_changes_nothing() -> None:
    h, apps = make_world()
    farm = apps["farm"]
    root = h.state_root
    for args, message in [
        (("B 1", "tea", "tea", "1", "kg", {}), "batch id must be"),
        (("B1", "nope", "tea", "1", "kg", {}), "no template nope"),
        (("B1", "tea", "tea", "1.0001", "kg", {}), "at most three decimals"),
        (("B1", "tea", "tea", "-1", "kg", {}), "decimal string"),
        (("B1", "tea", "tea", "0", "kg", {}), "positive"),
        (("B1", "tea", "", "1", "kg", {}), "product must be"),
        (("B1", "tea", "tea", "1", "kg", {"Bad Key": "x"}), "a data key must be"),
    ]:
        result = h.call(h.member("farm"), "trace", "create", *args)
        assert result.status == "reverted" and message in result.message, (args, result)
    assert h.keys("trace", "batch/") == []
    assert h.state_root == root  # blocks were committed, of failed txs only: the same state
    with pytest.raises(TypeError, match="never float"):
        quantity_text(1.5)  # type: ignore[arg-type]
    farm.create("B1", "tea", "tea", "1", "kg")
    with pytest.raises(AppError, match="exists"):
        farm.create("B1", "tea", "tea", "1", "kg")


# --- the model-based property test ------------------------------------------------------------

QUANTUM = Decimal("0.001")
_examples = count()


@dataclass
class Batch:
    quantity: Decimal
    custodian: str
    pending: str = ""
    status: str = "active"
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    events: int = 1


KINDS = {  # kind: (role, custody, closes) in the tea template
    "harvested": ("grower", True, False),
    "processed": ("processor", True, False),
    "inspected": ("inspector", False, False),
    "sold": ("retailer", True, True),
}
ACTORS = ["farm", "mill", "ship", "shop", "lab", "rogue"]
ROLE_ORG = {role: org for org, role in ROLES.items()}
KINDS_BY_ROLE = {role: (kind, custody) for kind, (role, custody, _) in KINDS.items()}

# an actor is an organisation, or who the model says is entitled to the step ("$entitled"), or
# a near miss ("$custodian", "$pending", "$role"): so that most steps are allowed, and most
# refusals are the interesting ones
actor = st.sampled_from(["$entitled"] * 6 + ["$custodian", "$pending", "$role", *ACTORS])
pick = st.integers(0, 10_000)
hand_over = st.tuples(st.just("hand_over"), actor, pick, st.sampled_from(ACTORS))
take_over = st.tuples(st.just("take_over"), actor, pick)
operation = st.one_of(
    st.tuples(st.just("create"), actor, st.integers(1, 5_000_000)),
    st.tuples(st.just("record"), actor, pick, st.sampled_from(sorted(KINDS))),
    hand_over,
    hand_over,
    take_over,
    take_over,
    st.tuples(st.just("split"), actor, pick, st.integers(2, 4), st.booleans()),
    st.tuples(st.just("merge"), actor, st.lists(pick, min_size=2, max_size=3)),
)


class TraceModel:
    """What the contract should answer, step by step, and the batches it should hold."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.batches: dict[str, Batch] = {}
        self.created = Decimal(0)

    def _pick(self, i: int, pending: bool = False) -> str:
        """Mostly an active batch (with a hand-over pending, if asked), sometimes any."""
        ids = sorted(self.batches)
        if i % 4:
            ids = [x for x, b in self.batches.items() if b.status == "active"] or ids
            if pending:
                ids = [x for x in ids if self.batches[x].pending] or ids
        return sorted(ids)[i % len(ids)] if ids else self.prefix + "missing"

    def _who(self, symbol: str, bid: str, role: str = "grower", kind: str = "") -> str:
        b = self.batches.get(bid)
        if symbol == "$entitled":
            if kind == "take_over":
                symbol = "$pending"
            elif kind == "record" and not KINDS_BY_ROLE[role][1]:
                symbol = "$role"
            else:
                symbol = "$custodian"
        if symbol == "$custodian":
            return b.custodian if b else "rogue"
        if symbol == "$pending":
            return b.pending if b and b.pending else "rogue"
        if symbol == "$role":
            return ROLE_ORG[role]
        return symbol

    def step(self, op: tuple, n: int) -> tuple[str, str, list, bool]:  # type: ignore[type-arg]
        """(who, method, args, expected ok) of ``op``; the model moves on if ok."""
        kind = op[0]
        if kind == "create":
            who = "farm" if op[1] in ("$entitled", "$custodian", "$role") else self._who(op[1], "")
            quantity = Decimal(op[2]) * QUANTUM
            ok = who == "farm"
            if ok:
                self.batches[f"{self.prefix}{n}"] = Batch(quantity, who)
                self.created += quantity
            args = [f"{self.prefix}{n}", "tea", "tea", quantity_text(quantity), "kg", {}]
            return who, "create", args, ok
        if kind == "merge":
            return self._merge(op, n)
        bid = self._pick(op[2], pending=kind == "take_over")
        b = self.batches.get(bid)
        active = b is not None and b.status == "active"
        if kind == "record":
            role, custody, closes = KINDS[op[3]]
            who = self._who(op[1], bid, role, "record")
            ok = active and ROLES.get(who) == role and (not custody or b.custodian == who)
            if ok and b is not None:
                b.events += 1
                b.status = "closed" if closes else b.status
            return who, "record", [bid, op[3], {}], ok
        who = self._who(op[1], bid, kind=kind)
        held = active and b is not None and b.custodian == who and not b.pending
        if kind == "hand_over":
            ok = held and op[3] != who
            if ok and b is not None:
                b.pending, b.events = op[3], b.events + 1
            return who, "hand_over", [bid, op[3]], ok
        if kind == "take_over":
            ok = active and b is not None and b.pending == who
            if ok and b is not None:
                b.custodian, b.pending, b.events = who, "", b.events + 1
            return who, "take_over", [bid], ok
        parts, wrong = op[3], op[4]
        total = b.quantity if b is not None else Decimal(1)
        share = (total / parts).quantize(QUANTUM, rounding="ROUND_DOWN")
        quantities = [share] * (parts - 1) + [total - share * (parts - 1)]
        if wrong:
            quantities[-1] += QUANTUM
        names = [f"{self.prefix}{n}s{k}" for k in range(parts)]
        ok = held and not wrong and all(q > 0 for q in quantities)
        if ok and b is not None:
            for name, q in zip(names, quantities, strict=True):
                self.batches[name] = Batch(q, who, parents=[bid])
            b.status, b.children, b.events = "split", names, b.events + 1
        pairs = [[x, format(q, "f")] for x, q in zip(names, quantities, strict=True)]
        return who, "split", [bid, pairs], ok

    def _merge(self, op: tuple, n: int) -> tuple[str, str, list, bool]:  # type: ignore[type-arg]
        bids = [self._pick(i) for i in op[2]]
        who = self._who(op[1], bids[0])
        new = f"{self.prefix}{n}m"
        parents = [self.batches.get(x) for x in bids]
        ok = len(set(bids)) == len(bids) and all(
            p is not None and p.status == "active" and p.custodian == who and not p.pending
            for p in parents
        )
        if ok:
            total = sum((p.quantity for p in parents if p), Decimal(0))
            self.batches[new] = Batch(total, who, parents=bids)
            for p in parents:
                assert p is not None
                p.status, p.children, p.events = "merged", [new], p.events + 1
        return who, "merge", [new, bids], ok


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 5_000_000), min_size=1, max_size=4),
    st.lists(operation, min_size=10, max_size=40),
)
def test_any_sequence_of_trace_operations_keeps_the_invariants(
    first: list[int],
    ops: list,  # type: ignore[type-arg]
) -> None:
    h, _ = shared_world()
    model = TraceModel(f"P{next(_examples)}-")
    steps = [("create", "farm", q) for q in first] + ops
    for n, op in enumerate(steps):
        who, method, args, expected = model.step(op, n)
        result = h.call(h.member(who), "trace", method, *args)
        assert result.ok == expected, (op, who, result.status, result.message)
        event(f"{method} {'ok' if result.ok else 'refused'}")
    # the chain's batches are the model's
    for bid, b in model.batches.items():
        record = h.state("trace", "batch/" + bid)
        assert Decimal(record["quantity"]) == b.quantity
        assert (record["custodian"], record["pending"], record["status"]) == (
            b.custodian,
            b.pending,
            b.status,
        )
        assert (record["parents"], record["children"], record["events"]) == (
            b.parents,
            b.children,
            b.events,
        )
        # the log is append-only: n events, each written exactly once
        for i in range(b.events):
            versions = h.history("trace", f"event/{bid}/{i}")
            assert len(versions) == 1 and versions[0][1]["n"] == i
        assert h.state("trace", f"event/{bid}/{b.events}") is None
        for parent in b.parents:
            assert bid in model.batches[parent].children
    # nothing created or lost: the live and closed batches hold what was created
    leaves = [b.quantity for b in model.batches.values() if b.status in ("active", "closed")]
    assert sum(leaves, Decimal(0)) == model.created
    assert len(h.keys("trace", "batch/" + model.prefix)) == len(model.batches)
