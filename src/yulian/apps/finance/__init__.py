"""Introduction: the ``finance`` applications (供应链金融 / 票据, 跨境支付, 公益慈善) — client side.

Three contracts, shipped as data and deployed through the lifecycle:

- ``finance`` (``contract.py``): receivables a core enterprise issues, split and transferred up
  the supply chain, discounted by banks and redeemed at maturity;
- ``crossborder`` (``crossborder.py``): payments between banks at a published exchange rate,
  observed by a foreign-exchange regulator;
- ``charity`` (``charity.py``): donations traced to the spendings they funded.

``Receivables``, ``CrossBorder`` and ``Charity`` call them through any ``Connection`` (a node's
``yulian.sdk.Client`` or the test harness). Amounts cross the API as decimal strings; this
module builds them from ``Decimal`` and refuses floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from yulian.apps.shared import Connection, call, govern

FINANCE = "finance"
CROSSBORDER = "crossborder"
CHARITY = "charity"
SOURCES = {FINANCE: "contract.py", CROSSBORDER: "crossborder.py", CHARITY: "charity.py"}
FINANCE_VERSION = "1.0"
PAGE = 64
CENT = Decimal("0.01")


def contract_source(
    name: str = FINANCE,
    governors: Sequence[str] = ("org1",),
    founding_roles: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The source of contract ``name`` (finance, crossborder or charity), ready to propose,
    with ``governors`` (organisations whose admins grant its roles) and ``founding_roles``
    (role -> organisations holding it from the start) written in."""
    if name not in SOURCES:
        raise ValueError(f"no finance contract {name!r}; known: {', '.join(SOURCES)}")
    source = resources.files(__package__).joinpath(SOURCES[name]).read_text(encoding="utf-8")
    return govern(source, governors, founding_roles)


def amount_text(amount: Decimal | int | str) -> str:
    """An amount as the contracts take it: a decimal string with two decimals. Floats are
    refused (0.1 has no exact binary form); so are amounts with fractions of a cent."""
    if isinstance(amount, float | bool):
        raise TypeError("amounts are Decimal, int or decimal strings, never float")
    value = Decimal(str(amount))
    if not value.is_finite() or value <= 0:
        raise ValueError(f"an amount is a positive number, got {amount!r}")
    if value != value.quantize(CENT):
        raise ValueError(f"{amount!r} has fractions of a cent")
    return format(value.quantize(CENT), "f")


class _App:
    contract = ""

    def __init__(self, conn: Connection, contract: str | None = None) -> None:
        self.conn = conn
        self.contract = contract or self.contract

    def _call(self, method: str, *args: Any) -> Any:
        return call(self.conn, self.contract, method, *args)

    def _query(self, method: str, *args: Any) -> Any:
        return self.conn.query(self.contract, method, list(args))

    def grant_role(self, org: str, role: str) -> None:
        self._call("grant_role", org, role)

    def revoke_role(self, org: str, role: str) -> None:
        self._call("revoke_role", org, role)


class Receivables(_App):
    """Receivables (应收账款 / 数字债权凭证): issue, transfer, split, finance, redeem."""

    contract = FINANCE

    def issue(
        self,
        note_id: str,
        holder: str,
        amount: Decimal | int | str,
        currency: str,
        maturity_ms: int,
        basis: str = "",
    ) -> dict[str, Any]:
        """Issue a note to ``holder`` (as a core enterprise); returns its first part."""
        part: dict[str, Any] = self._call(
            "issue", note_id, holder, amount_text(amount), currency, maturity_ms, basis
        )
        return part

    def transfer(self, part_id: str, to_org: str, amount: Decimal | int | str) -> dict[str, Any]:
        """Pass ``amount`` of a held part to ``to_org``; returns the part ``to_org`` now holds
        (the same part when the whole amount moves)."""
        part: dict[str, Any] = self._call("transfer", part_id, to_org, amount_text(amount))
        return part

    def split(self, part_id: str, amounts: Sequence[Decimal | int | str]) -> list[str]:
        ids: list[str] = self._call("split", part_id, [amount_text(a) for a in amounts])
        return ids

    def offer(self, part_id: str, bank: str, price: Decimal | int | str) -> None:
        self._call("offer", part_id, bank, amount_text(price))

    def withdraw_offer(self, part_id: str) -> None:
        self._call("withdraw_offer", part_id)

    def decline(self, part_id: str) -> None:
        self._call("decline", part_id)

    def finance(self, part_id: str) -> dict[str, Any]:
        part: dict[str, Any] = self._call("finance", part_id)
        return part

    def redeem(self, part_id: str) -> dict[str, Any]:
        part: dict[str, Any] = self._call("redeem", part_id)
        return part

    def note(self, note_id: str) -> dict[str, Any]:
        note: dict[str, Any] = self._query("get_note", note_id)
        return note

    def part(self, part_id: str) -> dict[str, Any]:
        part: dict[str, Any] = self._query("get_part", part_id)
        return part

    def parts(self, note_id: str) -> list[dict[str, Any]]:
        """Every part of a note, in the order they were cut."""
        total = self.note(note_id)["parts"] + 1
        out: list[dict[str, Any]] = []
        while len(out) < total:
            out.extend(self._query("get_parts", note_id, len(out), PAGE))
        return out

    def holdings(self, note_id: str) -> dict[str, Decimal]:
        """What each organisation holds of a note (held or on offer), by organisation."""
        out: dict[str, Decimal] = {}
        for part in self.parts(note_id):
            if part["status"] in ("held", "offered"):
                out[part["holder"]] = out.get(part["holder"], Decimal(0)) + Decimal(part["amount"])
        return out


class CrossBorder(_App):
    """Cross-border payments between banks at a published rate (跨境支付)."""

    contract = CROSSBORDER

    def publish_rate(self, base: str, quote: str, rate: Decimal | str) -> dict[str, Any]:
        if isinstance(rate, float):
            raise TypeError("rates are Decimal or decimal strings, never float")
        record: dict[str, Any] = self._call(
            "publish_rate", base, quote, format(Decimal(str(rate)), "f")
        )
        return record

    def send(
        self,
        payment_id: str,
        to_bank: str,
        amount: Decimal | int | str,
        currency: str,
        target_currency: str,
        beneficiary: str,
    ) -> dict[str, Any]:
        """Send a payment; ``beneficiary`` is the digest of the account details (only the
        two banks know them)."""
        payment: dict[str, Any] = self._call(
            "send", payment_id, to_bank, amount_text(amount), currency, target_currency, beneficiary
        )
        return payment

    def settle(self, payment_id: str) -> dict[str, Any]:
        payment: dict[str, Any] = self._call("settle", payment_id)
        return payment

    def reject(self, payment_id: str, reason: str) -> dict[str, Any]:
        payment: dict[str, Any] = self._call("reject", payment_id, reason)
        return payment

    def flag(self, payment_id: str, note: str) -> dict[str, Any]:
        payment: dict[str, Any] = self._call("flag", payment_id, note)
        return payment

    def payment(self, payment_id: str) -> dict[str, Any]:
        payment: dict[str, Any] = self._query("get_payment", payment_id)
        return payment

    def rate(self, base: str, quote: str) -> dict[str, Any]:
        record: dict[str, Any] = self._query("get_rate", base, quote)
        return record

    def volume(self, org: str, currency: str) -> dict[str, Decimal]:
        raw = self._query("volume", org, currency)
        return {k: Decimal(v) for k, v in raw.items()}


class Charity(_App):
    """Donations and the spendings they funded (公益慈善)."""

    contract = CHARITY

    def open_project(
        self, project_id: str, title: str, currency: str, target: Decimal | int | str
    ) -> dict[str, Any]:
        project: dict[str, Any] = self._call(
            "open_project", project_id, title, currency, amount_text(target)
        )
        return project

    def donate(
        self, project_id: str, amount: Decimal | int | str, donor_name: str = ""
    ) -> dict[str, Any]:
        donation: dict[str, Any] = self._call("donate", project_id, amount_text(amount), donor_name)
        return donation

    def spend(
        self,
        project_id: str,
        amount: Decimal | int | str,
        purpose: str,
        payee: str,
        evidence: str,
    ) -> dict[str, Any]:
        spending: dict[str, Any] = self._call(
            "spend", project_id, amount_text(amount), purpose, payee, evidence
        )
        return spending

    def close_project(self, project_id: str) -> None:
        self._call("close_project", project_id)

    def project(self, project_id: str) -> dict[str, Any]:
        project: dict[str, Any] = self._query("get_project", project_id)
        return project

    def donation(self, project_id: str, n: int) -> dict[str, Any]:
        donation: dict[str, Any] = self._query("get_donation", project_id, n)
        return donation

    def spending(self, project_id: str, m: int) -> dict[str, Any]:
        spending: dict[str, Any] = self._query("get_spending", project_id, m)
        return spending

    def follow_donation(self, project_id: str, n: int) -> dict[str, Any]:
        """A donation and every spending it helped pay for, with the part it paid."""
        donation = self.donation(project_id, n)
        uses: list[dict[str, Any]] = []
        while len(uses) < donation["uses"]:
            uses.extend(self._query("get_uses", project_id, n, len(uses), PAGE))
        spent_on = [
            {"spending": self.spending(project_id, u["spending"]), "amount": u["amount"]}
            for u in uses
        ]
        return {"donation": donation, "spent_on": spent_on}
