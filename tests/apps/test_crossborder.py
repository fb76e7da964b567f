"""crossborder (跨境支付) in the harness: payments converted at the published rate, stale rates
refused, the regulator observing and flagging, and settled volume that always adds up."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.apps.finance import CROSSBORDER, CrossBorder, contract_source
from yulian.apps.shared import AppError
from yulian.devkit import Harness

HOUR_MS = 3_600_000
BENEFICIARY = "be" * 32
BANKS = ("cq_bank", "hk_bank", "sg_bank")


def make_world() -> Harness:
    h = Harness(["pboc", *BANKS, "fx_data", "safe", "rogue"])
    h.deploy(CROSSBORDER, contract_source(CROSSBORDER, ("pboc",)))
    gov = CrossBorder(h.client(h.admin("pboc")))
    for bank in BANKS:
        gov.grant_role(bank, "bank")
    gov.grant_role("fx_data", "rate_provider")
    gov.grant_role("safe", "regulator")
    provider = CrossBorder(h.client(h.member("fx_data")))
    provider.publish_rate("USD", "CNY", "7.1234")
    provider.publish_rate("CNY", "USD", "0.1404")
    provider.publish_rate("CNY", "SGD", "0.1873")
    return h


@cache
def shared_world() -> Harness:
    return make_world()


def app(h: Harness, org: str) -> CrossBorder:
    return CrossBorder(h.client(h.member(org)))


def test_a_usd_payment_from_chongqing_settles_in_cny_at_the_published_rate() -> None:
    h = make_world()
    cq, hk, safe = app(h, "cq_bank"), app(h, "hk_bank"), app(h, "safe")
    sent = hk.send("CB-0001", "cq_bank", "250000.00", "USD", "CNY", BENEFICIARY)
    assert (sent["target_amount"], sent["rate"], sent["status"]) == (
        "1780850.00",
        "7.12340000",
        "sent",
    )
    assert sent["rate_height"] == h.query(CROSSBORDER, "get_rate", "USD", "CNY")["height"]
    (announced,) = h.events(CROSSBORDER, "payment_sent")
    assert announced.payload["target_amount"] == "1780850.00"  # the regulator sees it at once
    safe.flag("CB-0001", "large transfer: documents requested")
    with pytest.raises(AppError, match="only the receiving bank"):
        safe.settle("CB-0001")
    with pytest.raises(AppError, match="only the receiving bank"):
        hk.settle("CB-0001")
    settled = cq.settle("CB-0001")
    assert settled["status"] == "settled" and settled["flags"][0]["by"] == "safe"
    assert cq.volume("hk_bank", "USD") == {"in": Decimal(0), "out": Decimal("250000.00")}
    assert cq.volume("cq_bank", "CNY") == {"in": Decimal("1780850.00"), "out": Decimal(0)}
    with pytest.raises(AppError, match="is settled"):
        cq.reject("CB-0001", "too late")


def test_rates_are_published_only_by_the_provider_and_go_stale_after_a_day() -> None:
    h = make_world()
    cq, fx = app(h, "cq_bank"), app(h, "fx_data")
    with pytest.raises(AppError, match="may not act as rate_provider"):
        cq.publish_rate("USD", "CNY", "9")
    with pytest.raises(AppError, match="may not act as regulator"):
        cq.flag("missing", "x")
    with pytest.raises(AppError, match="no rate CNY/EUR"):
        cq.send("P1", "hk_bank", "1", "CNY", "EUR", BENEFICIARY)
    h.advance(ms=25 * HOUR_MS)
    with pytest.raises(AppError, match="older than a day"):
        cq.send("P1", "hk_bank", "100", "CNY", "USD", BENEFICIARY)
    fx.publish_rate("CNY", "USD", "0.1399")
    assert cq.send("P1", "hk_bank", "100", "CNY", "USD", BENEFICIARY)["target_amount"] == "13.99"
    with pytest.raises(AppError, match="not a bank"):
        cq.send("P2", "rogue", "100", "CNY", "CNY", BENEFICIARY)
    with pytest.raises(AppError, match="too many decimals"):
        fx.publish_rate("CNY", "USD", "0.123456789")
    rejected = app(h, "hk_bank").reject("P1", "beneficiary account closed")
    assert (rejected["status"], rejected["reason"]) == ("rejected", "beneficiary account closed")
    assert app(h, "hk_bank").volume("hk_bank", "USD")["in"] == 0


def test_conversion_rounds_half_to_even_in_decimal() -> None:
    h = make_world()
    fx, cq = app(h, "fx_data"), app(h, "cq_bank")
    fx.publish_rate("USD", "JPY", "0.5")
    assert cq.send("R1", "hk_bank", "0.05", "USD", "JPY", BENEFICIARY)["target_amount"] == "0.02"
    assert cq.send("R2", "hk_bank", "0.07", "USD", "JPY", BENEFICIARY)["target_amount"] == "0.04"


# --- settled volume adds up -----------------------------------------------------------------------

_examples = count()
RATES = {("USD", "CNY"): "7.1234", ("CNY", "USD"): "0.1404", ("CNY", "SGD"): "0.1873"}
PAIRS = [("CNY", "CNY"), *RATES]
operation = st.one_of(
    st.tuples(
        st.just("send"),
        st.sampled_from(BANKS),
        st.sampled_from(BANKS),
        st.integers(1, 10**9),
        st.sampled_from(PAIRS),
    ),
    st.tuples(st.just("settle"), st.integers(0, 100), st.booleans()),
    st.tuples(st.just("reject"), st.integers(0, 100), st.booleans()),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, min_size=5, max_size=30))
def test_settled_volume_is_the_sum_of_settled_payments(ops: list) -> None:  # type: ignore[type-arg]
    h = shared_world()
    fx = app(h, "fx_data")
    for (base, quote), rate in RATES.items():  # fresh rates for this example
        fx.publish_rate(base, quote, rate)
    prefix = f"X{next(_examples)}-"
    before = {(b, c): app(h, b).volume(b, c) for b in BANKS for c in ("CNY", "USD", "SGD")}
    payments: dict[str, dict[str, str]] = {}
    for n, op in enumerate(ops):
        if op[0] == "send":
            _, src, dst, cents, (cur, target) = op
            amount = Decimal(cents).scaleb(-2)
            rate = Decimal(RATES.get((cur, target), "1"))
            converted = (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            result = h.call(
                h.member(src),
                CROSSBORDER,
                "send",
                f"{prefix}{n}",
                dst,
                format(amount, "f"),
                cur,
                target,
                BENEFICIARY,
            )
            assert result.ok == (src != dst and converted > 0), result.message
            if result.ok:
                assert Decimal(result.value["target_amount"]) == converted
                payments[f"{prefix}{n}"] = result.value
            continue
        ids = sorted(payments)
        if not ids:
            continue
        pid = ids[op[1] % len(ids)]
        p = payments[pid]
        who = p["to_bank"] if op[2] else p["from_bank"]
        result = h.call(
            h.member(who), CROSSBORDER, op[0], pid, *(["no"] if op[0] == "reject" else [])
        )
        assert result.ok == (op[2] and p["status"] == "sent"), (op, result.message)
        if result.ok:
            p["status"] = "settled" if op[0] == "settle" else "rejected"
    for bank in BANKS:
        for cur in ("CNY", "USD", "SGD"):
            out = sum(
                (
                    Decimal(p["amount"])
                    for p in payments.values()
                    if p["status"] == "settled" and p["from_bank"] == bank and p["currency"] == cur
                ),
                Decimal(0),
            )
            into = sum(
                (
                    Decimal(p["target_amount"])
                    for p in payments.values()
                    if p["status"] == "settled"
                    and p["to_bank"] == bank
                    and p["target_currency"] == cur
                ),
                Decimal(0),
            )
            now = app(h, bank).volume(bank, cur)
            assert now["out"] - before[(bank, cur)]["out"] == out
            assert now["in"] - before[(bank, cur)]["in"] == into
