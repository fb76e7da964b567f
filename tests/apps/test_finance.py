"""finance (供应链金融 / 票据) in the harness: a receivable from issue to redemption, who may act
when, and the property that no sequence of operations creates or destroys value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import count

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from yulian.apps.finance import FINANCE, SOURCES, Receivables, amount_text, contract_source
from yulian.apps.shared import AppError
from yulian.devkit import Harness

DAY_MS = 86_400_000
ORGS = ["core", "core2", "s1", "s2", "s3", "bank1", "bank2", "rogue"]
ISSUERS = ("core", "core2")
BANKS = ("bank1", "bank2")


def make_world() -> Harness:
    h = Harness(ORGS)
    for name in SOURCES:
        h.deploy(name, contract_source(name, ("core",)))
    gov = Receivables(h.client(h.admin("core")))
    for org in ISSUERS:
        gov.grant_role(org, "issuer")
    for org in BANKS:
        gov.grant_role(org, "bank")
    return h


@cache
def shared_world() -> Harness:
    return make_world()


def app(h: Harness, org: str) -> Receivables:
    return Receivables(h.client(h.member(org)))


def test_a_receivable_from_the_core_enterprise_up_the_chain_to_the_bank_and_back() -> None:
    h = make_world()
    core, s1, s2, s3, bank = (app(h, o) for o in ("core", "s1", "s2", "s3", "bank1"))
    maturity = h.time_ms + 90 * DAY_MS
    first = core.issue("YX-2025-001", "s1", "1000000.00", "CNY", maturity, "ab" * 32)
    assert (first["id"], first["holder"], first["amount"]) == ("YX-2025-001", "s1", "1000000.00")
    # s1 pays 300,000 of it to its own supplier s2, who pays 100,000 on to s3
    to_s2 = s1.transfer("YX-2025-001", "s2", "300000")
    assert (to_s2["id"], to_s2["holder"], to_s2["parent"]) == ("YX-2025-001#1", "s2", "YX-2025-001")
    to_s3 = s2.transfer(to_s2["id"], "s3", "100000.00")
    assert s1.part("YX-2025-001")["amount"] == "700000.00"
    # s3 needs cash now: it sells its part to the bank at a discount
    s3.offer(to_s3["id"], "bank1", "97500.00")
    with pytest.raises(AppError, match="is offered"):
        s3.transfer(to_s3["id"], "s1", "1")  # an offered part is locked
    financed = bank.finance(to_s3["id"])
    assert financed["holder"] == "bank1" and financed["financed"]["price"] == "97500.00"
    assert core.holdings("YX-2025-001") == {
        "s1": Decimal("700000.00"),
        "s2": Decimal("200000.00"),
        "bank1": Decimal("100000.00"),
    }
    # before maturity the issuer cannot redeem; at maturity nothing moves but redemptions
    with pytest.raises(AppError, match="matures at"):
        core.redeem("YX-2025-001")
    h.set_time(maturity)
    with pytest.raises(AppError, match="has matured"):
        s1.transfer("YX-2025-001", "s2", "1")
    for part in core.parts("YX-2025-001"):
        core.redeem(part["id"])
    note = core.note("YX-2025-001")
    assert (note["status"], note["redeemed"]) == ("settled", "1000000.00")
    paid = {e.payload["holder"]: e.payload["amount"] for e in h.events(FINANCE, "redeemed")}
    assert paid == {"s1": "700000.00", "s2": "200000.00", "bank1": "100000.00"}
    with pytest.raises(AppError, match="is redeemed"):
        core.redeem("YX-2025-001")


def test_only_the_holder_acts_and_only_the_offered_bank_finances() -> None:
    h = make_world()
    core, s1, s2, bank1, bank2 = (app(h, o) for o in ("core", "s1", "s2", "bank1", "bank2"))
    core.issue("N1", "s1", "500.00", "CNY", h.time_ms + DAY_MS)
    for attempt in (
        lambda: s2.transfer("N1", "s2", "1"),
        lambda: s2.split("N1", ["250", "250"]),
        lambda: s2.offer("N1", "bank1", "1"),
    ):
        with pytest.raises(AppError, match="only the holder"):
            attempt()
    with pytest.raises(AppError, match="not a bank"):
        s1.offer("N1", "s2", "400")
    with pytest.raises(AppError, match="cannot exceed"):
        s1.offer("N1", "bank1", "500.01")
    s1.offer("N1", "bank1", "490")
    with pytest.raises(AppError, match="offered to bank1"):
        bank2.finance("N1")
    with pytest.raises(AppError, match="only the bank offered to"):
        bank2.decline("N1")
    bank1.decline("N1")
    assert s1.part("N1")["status"] == "held"
    with pytest.raises(AppError, match="may not act as issuer"):
        s1.issue("N2", "s2", "1", "CNY", h.time_ms + DAY_MS)
    with pytest.raises(AppError, match=r"must sum to 500\.00"):
        s1.split("N1", ["250", "249.99"])
    refused = h.call(h.member("s1"), FINANCE, "transfer", "N1", "s2", "0.001")  # not via the client
    assert (refused.status, refused.message) == ("reverted", "amount has more than two decimals")
    with pytest.raises(ValueError, match="fractions of a cent"):
        amount_text("0.001")
    with pytest.raises(TypeError, match="never float"):
        amount_text(0.1)  # type: ignore[arg-type]


def test_founding_roles_hold_from_the_start_and_change_only_with_an_upgrade() -> None:
    h = Harness(["core", "s1", "bank1"])
    founded = contract_source(FINANCE, ("core",), {"issuer": ["core"], "bank": ["bank1"]})
    assert "FOUNDING_ROLES = ('bank:bank1', 'issuer:core',)" in founded
    h.deploy(FINANCE, founded)
    core, gov = app(h, "core"), Receivables(h.client(h.admin("core")))
    core.issue("N1", "core", "100", "CNY", h.time_ms + DAY_MS)  # no grant tx needed
    core.transfer("N1", "s1", "40")
    app(h, "s1").offer("N1#1", "bank1", "39")
    app(h, "bank1").finance("N1#1")
    with pytest.raises(AppError, match="already holds the role issuer"):
        gov.grant_role("core", "issuer")
    with pytest.raises(AppError, match="changes only with an upgrade"):
        gov.revoke_role("core", "issuer")
    assert h.query(FINANCE, "has_role", "bank1", "bank") is True
    assert h.query(FINANCE, "has_role", "s1", "bank") is False


# --- value is neither created nor destroyed ------------------------------------------------------

_examples = count()
SUPPLIERS = ("s1", "s2", "s3")


@dataclass
class Part:
    note: str
    amount: Decimal
    holder: str
    status: str = "held"
    bank: str = ""


@dataclass
class Note:
    issuer: str
    face: Decimal
    maturity: int
    parts: int = 0


actor = st.sampled_from(["$entitled"] * 12 + ORGS)
pick = st.integers(0, 10_000)
cents = st.integers(1, 100_000_000)
fraction = st.sampled_from(["all", "half", "third", "tiny", "over"])
operation = st.one_of(
    st.tuples(st.just("issue"), actor, st.sampled_from(SUPPLIERS), cents, st.integers(5, 90)),
    st.tuples(st.just("transfer"), actor, pick, st.sampled_from(ORGS), fraction),
    st.tuples(st.just("split"), actor, pick, st.integers(2, 4), st.booleans()),
    st.tuples(st.just("offer"), actor, pick, st.sampled_from([*BANKS, *BANKS, "s2"]), fraction),
    st.tuples(st.just("offer"), actor, pick, st.sampled_from(BANKS), st.just("half")),
    st.tuples(st.just("withdraw_offer"), actor, pick),
    st.tuples(st.just("decline"), actor, pick),
    st.tuples(st.just("finance"), actor, pick),
    st.tuples(st.just("finance"), actor, pick),
    st.tuples(st.just("redeem"), actor, pick),
    st.tuples(st.just("redeem"), actor, pick),
    st.tuples(st.just("advance"), st.just(""), st.sampled_from([1, 3, 10, 40])),
)


def portion(amount: Decimal, how: str) -> Decimal:
    cent = Decimal("0.01")
    return {
        "all": amount,
        "half": (amount / 2).quantize(cent, rounding="ROUND_DOWN"),
        "third": (amount / 3).quantize(cent, rounding="ROUND_DOWN"),
        "tiny": cent,
        "over": amount + cent,
    }[how]


class FinanceModel:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.notes: dict[str, Note] = {}
        self.parts: dict[str, Part] = {}
        self.issued = Decimal(0)

    def pick(self, i: int, status: str) -> str:
        ids = sorted(self.parts)
        if i % 4:
            ids = [p for p in ids if self.parts[p].status == status] or ids
        return ids[i % len(ids)] if ids else self.prefix + "none"

    def step(self, op: tuple, n: int, now: int) -> tuple[str, str, list, bool]:  # type: ignore[type-arg]
        kind, symbol = op[0], op[1]
        if kind == "issue":
            who = "core" if symbol == "$entitled" else symbol
            note_id, amount = f"{self.prefix}{n}", Decimal(op[3]) / 100
            maturity = now + op[4] * DAY_MS
            ok = who in ISSUERS
            if ok:
                self.notes[note_id] = Note(who, amount, maturity)
                self.parts[note_id] = Part(note_id, amount, op[2])
                self.issued += amount
            return who, "issue", [note_id, op[2], amount_text(amount), "CNY", maturity, ""], ok
        wanted = "offered" if kind in ("withdraw_offer", "decline", "finance") else "held"
        pid = self.pick(op[2], wanted)
        part = self.parts.get(pid)
        note = self.notes.get(part.note) if part else None
        entitled = {
            "decline": part.bank if part else "",
            "finance": part.bank if part else "",
            "redeem": note.issuer if note else "",
        }.get(kind, part.holder if part else "")
        who = (entitled or "rogue") if symbol == "$entitled" else symbol
        live = note is not None and now < note.maturity
        movable = part is not None and part.status == "held" and part.holder == who and live
        if kind == "transfer":
            amount = portion(part.amount if part else Decimal(1), op[4])
            ok = movable and op[3] != who and 0 < amount <= (part.amount if part else 0)
            if ok and part and note:
                if amount == part.amount:
                    part.holder = op[3]
                else:
                    part.amount -= amount
                    note.parts += 1
                    self.parts[f"{part.note}#{note.parts}"] = Part(part.note, amount, op[3])
            return who, "transfer", [pid, op[3], format(amount, "f")], ok
        if kind == "split":
            total = part.amount if part else Decimal(1)
            share = (total / op[3]).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            amounts = [share] * (op[3] - 1) + [total - share * (op[3] - 1)]
            if op[4]:
                amounts[-1] += Decimal("0.01")
            ok = movable and not op[4] and all(a > 0 for a in amounts)
            if ok and part and note:
                part.status = "split"
                for a in amounts:
                    note.parts += 1
                    self.parts[f"{part.note}#{note.parts}"] = Part(part.note, a, part.holder)
            return who, "split", [pid, [format(a, "f") for a in amounts]], ok
        if kind == "offer":
            price = portion(part.amount if part else Decimal(1), op[4])
            ok = (
                movable
                and op[3] in BANKS
                and op[3] != who
                and 0 < price <= (part.amount if part else 0)
            )
            if ok and part:
                part.status, part.bank = "offered", op[3]
            return who, "offer", [pid, op[3], format(price, "f")], ok
        offered = part is not None and part.status == "offered"
        if kind in ("withdraw_offer", "decline"):
            ok = offered and who == (part.holder if kind == "withdraw_offer" else part.bank)
            if ok and part:
                part.status, part.bank = "held", ""
            return who, kind, [pid], ok
        if kind == "finance":
            ok = offered and live and part is not None and who == part.bank
            if ok and part:
                part.holder, part.status, part.bank = part.bank, "held", ""
            return who, "finance", [pid], ok
        # redeem
        ok = (
            part is not None
            and note is not None
            and who == note.issuer
            and now >= note.maturity
            and part.status in ("held", "offered")
        )
        if ok and part:
            part.status, part.bank = "redeemed", ""
        return who, "redeem", [pid], ok


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(SUPPLIERS), cents), min_size=1, max_size=3),
    st.lists(operation, min_size=10, max_size=40),
    st.booleans(),
)
def test_no_sequence_of_finance_operations_creates_or_destroys_value(
    first: list[tuple[str, int]],
    ops: list,  # type: ignore[type-arg]
    settle_all: bool,
) -> None:
    h = shared_world()
    model = FinanceModel(f"F{next(_examples)}-")
    steps = [("issue", "core", holder, c, 45) for holder, c in first] + ops
    for n, op in enumerate(steps):
        if op[0] == "advance":
            h.advance(ms=op[2] * DAY_MS)
            continue
        who, method, args, expected = model.step(op, n, h.next_time_ms)
        result = h.call(h.member(who), FINANCE, method, *args)
        assert result.ok == expected, (op, who, args, result.status, result.message)
        event(f"{method} {'ok' if result.ok else 'refused'}")
    if settle_all:  # everything matures; each issuer redeems every part, in any order
        h.advance(ms=100 * DAY_MS)
        for pid in sorted(model.parts, reverse=True):
            part = model.parts[pid]
            expected = part.status in ("held", "offered")
            result = h.call(h.member(model.notes[part.note].issuer), FINANCE, "redeem", pid)
            assert result.ok == expected, (pid, result.message)
            if result.ok:
                part.status = "redeemed"
        assert all(p.status in ("redeemed", "split") for p in model.parts.values())
    total = Decimal(0)
    for note_id, note in model.notes.items():
        on_chain = h.state(FINANCE, "note/" + note_id)
        assert Decimal(on_chain["face"]) == note.face and on_chain["parts"] == note.parts
        parts = [h.state(FINANCE, "part/" + note_id)] + [
            h.state(FINANCE, f"part/{note_id}#{k}") for k in range(1, note.parts + 1)
        ]
        alive = [p for p in parts if p["status"] in ("held", "offered", "redeemed")]
        # parts sum to the whole, for every note, whatever happened to it
        assert sum((Decimal(p["amount"]) for p in alive), Decimal(0)) == note.face
        redeemed = [Decimal(p["amount"]) for p in parts if p["status"] == "redeemed"]
        assert Decimal(on_chain["redeemed"]) == sum(redeemed, Decimal(0))
        assert (on_chain["status"] == "settled") == (sum(redeemed, Decimal(0)) == note.face)
        total += sum((Decimal(p["amount"]) for p in alive), Decimal(0))
        for p in parts:
            mine = model.parts[p["id"]]
            assert (Decimal(p["amount"]), p["holder"], p["status"]) == (
                mine.amount,
                mine.holder,
                mine.status,
            )
    assert total == model.issued
