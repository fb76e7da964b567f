"""charity (公益慈善) in the harness: donations traced to the spendings they paid for, first in
first out, and the books that always balance."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.apps.finance import CHARITY, Charity, contract_source
from yulian.apps.shared import AppError
from yulian.devkit import Harness

RECEIPT = "cd" * 32


def make_world() -> Harness:
    h = Harness(["civil_affairs", "foundation", "donor_a", "donor_b", "rogue"])
    h.deploy(CHARITY, contract_source(CHARITY, ("civil_affairs",)))
    Charity(h.client(h.admin("civil_affairs"))).grant_role("foundation", "charity")
    return h


@cache
def shared_world() -> Harness:
    return make_world()


def test_a_donation_is_followed_to_the_desks_and_books_it_bought() -> None:
    h = make_world()
    foundation = Charity(h.client(h.member("foundation")))
    a, b = Charity(h.client(h.member("donor_a"))), Charity(h.client(h.member("donor_b")))
    foundation.open_project("wulong-school", "Desks for Wulong primary school", "CNY", "50000")
    assert a.donate("wulong-school", "3000", "Zhang San")["n"] == 0
    assert b.donate("wulong-school", "5000")["n"] == 1
    assert a.donate("wulong-school", "2000", "Zhang San")["n"] == 2
    desks = foundation.spend("wulong-school", "4500", "40 desks", "Chongqing Desk Co", RECEIPT)
    assert desks["funded_by"] == [[0, "3000.00"], [1, "1500.00"]]
    books = foundation.spend("wulong-school", "4000", "library books", "Xinhua Books", RECEIPT)
    assert books["funded_by"] == [[1, "3500.00"], [2, "500.00"]]
    followed = b.follow_donation("wulong-school", 1)
    assert followed["donation"]["remaining"] == "0.00"
    assert [(u["spending"]["purpose"], u["amount"]) for u in followed["spent_on"]] == [
        ("40 desks", "1500.00"),
        ("library books", "3500.00"),
    ]
    project = foundation.project("wulong-school")
    assert (project["donated"], project["spent"]) == ("10000.00", "8500.00")
    with pytest.raises(AppError, match=r"only 1500\.00 of donations is unspent"):
        foundation.spend("wulong-school", "1500.01", "more", "x", RECEIPT)
    with pytest.raises(AppError, match="only the project's charity"):
        a.spend("wulong-school", "1", "me", "me", RECEIPT)
    foundation.close_project("wulong-school")
    with pytest.raises(AppError, match="is closed"):
        a.donate("wulong-school", "1")
    foundation.spend("wulong-school", "1500", "chairs", "Chongqing Desk Co", RECEIPT)


def test_only_a_charity_opens_projects_and_a_spending_draws_on_at_most_32_donations() -> None:
    h = make_world()
    with pytest.raises(AppError, match="may not act as charity"):
        Charity(h.client(h.member("rogue"))).open_project("p", "p", "CNY", "1")
    foundation = Charity(h.client(h.member("foundation")))
    foundation.open_project("many", "many small gifts", "CNY", "100")
    donor = Charity(h.client(h.member("donor_a")))
    for _ in range(33):
        donor.donate("many", "1")
    with pytest.raises(AppError, match="at most 32 donations"):
        foundation.spend("many", "33", "all", "x", RECEIPT)
    foundation.spend("many", "32", "most", "x", RECEIPT)
    assert foundation.spend("many", "1", "rest", "x", RECEIPT)["funded_by"] == [[32, "1.00"]]


# --- the books balance ---------------------------------------------------------------------------

_examples = count()
operation = st.one_of(
    st.tuples(st.just("donate"), st.sampled_from(["donor_a", "donor_b"]), st.integers(1, 10**7)),
    st.tuples(st.just("spend"), st.sampled_from(["foundation", "rogue"]), st.integers(1, 10**7)),
)


def _drawn(left: list[Decimal], amount: Decimal) -> list[tuple[int, Decimal]]:
    """The (donation, amount) pairs a spending of ``amount`` takes, oldest first."""
    out = []
    for n, remaining in enumerate(left):
        if amount <= 0:
            break
        take = min(remaining, amount)
        if take > 0:
            out.append((n, take))
            amount -= take
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, min_size=5, max_size=40))
def test_every_spending_is_paid_by_donations_first_in_first_out(ops: list) -> None:  # type: ignore[type-arg]
    h = shared_world()
    project_id = f"proj{next(_examples)}"
    Charity(h.client(h.member("foundation"))).open_project(project_id, "t", "CNY", "1")
    donated = spent = Decimal(0)
    left: list[Decimal] = []  # the model: what is left of each donation
    for kind, who, cents in ops:
        amount = Decimal(cents).scaleb(-2)
        if kind == "donate":
            result = h.call(h.member(who), CHARITY, "donate", project_id, format(amount, "f"), "")
            assert result.ok
            donated += amount
            left.append(amount)
            continue
        args = (project_id, format(amount, "f"), "p", "payee", RECEIPT)
        result = h.call(h.member(who), CHARITY, "spend", *args)
        drawn = _drawn(left, amount)
        expected = who == "foundation" and amount <= donated - spent and len(drawn) <= 32
        assert result.ok == expected, (kind, who, amount, result.message)
        if result.ok:
            spent += amount
            assert result.value["funded_by"] == [[n, format(a, "f")] for n, a in drawn]
            for n, a in drawn:
                left[n] -= a
    project = h.state(CHARITY, "project/" + project_id)
    assert (Decimal(project["donated"]), Decimal(project["spent"])) == (donated, spent)
    donations = [
        h.state(CHARITY, f"donation/{project_id}/{n}") for n in range(project["donations"])
    ]
    spendings = [
        h.state(CHARITY, f"spending/{project_id}/{m}") for m in range(project["spendings"])
    ]
    used = Decimal(0)
    for d in donations:  # what is left plus what was used is what was given
        uses = [h.state(CHARITY, f"use/{project_id}/{d['n']}/{k}") for k in range(d["uses"])]
        taken = sum((Decimal(u["amount"]) for u in uses), Decimal(0))
        assert Decimal(d["remaining"]) + taken == Decimal(d["amount"])
        used += taken
    assert used == spent
    for s in spendings:  # each spending is paid exactly by the donations it names
        assert sum((Decimal(a) for _, a in s["funded_by"]), Decimal(0)) == Decimal(s["amount"])
    # first in, first out: used-up donations, then at most one partly used, then untouched ones
    states = [
        "empty" if d["remaining"] == "0.00" else "full" if d["remaining"] == d["amount"] else "part"
        for d in donations
    ]
    order = {"empty": 0, "part": 1, "full": 2}
    assert [order[s] for s in states] == sorted(order[s] for s in states)
    assert states.count("part") <= 1
    assert project["next_unspent"] == states.count("empty")
