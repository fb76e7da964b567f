"""Introduction: the finance story (供应链金融 / 票据, 跨境支付, 公益慈善).

A core enterprise issues a receivable to its supplier; the supplier passes part of it up the
supply chain, and its sub-supplier cannot pass on more than it holds; the supplier offers the
rest to a bank, which discounts it (贴现). In full, the story goes on to a cross-border
payment between two banks at a rate a rate provider published, settled and flagged by the
foreign-exchange regulator, and a charity whose spending is traced to the donations that paid
for it.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal

from yulian.apps.finance import (
    CHARITY,
    CROSSBORDER,
    FINANCE,
    FINANCE_VERSION,
    Charity,
    CrossBorder,
    Receivables,
    contract_source,
)
from yulian.apps.stories.stage import Stage

TITLE = "供应链金融 finance: a receivable passed up the supply chain and discounted by a bank"
DAY_MS = 86_400_000
MATURITY_DAYS = 90


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    cast = stage.cast("issuer", "supplier", "sub_supplier", "bank")
    governor = stage.members[0]
    roles = {"issuer": cast["issuer"], "bank": cast["bank"]}
    stage.deploy(
        FINANCE,
        FINANCE_VERSION,
        contract_source(FINANCE, (governor,), {r: [o] for r, o in roles.items()}),
    )
    stage.ensure_roles(Receivables, governor, roles)
    core = Receivables(stage.member(cast["issuer"], "core enterprise"))
    supplier = Receivables(stage.member(cast["supplier"], "supplier"))
    sub = Receivables(stage.member(cast["sub_supplier"], "sub-supplier"))
    bank = Receivables(stage.member(cast["bank"], "bank"))
    note = f"YS-{stage.tag}"
    invoice = hashlib.sha256(f"invoice {note}".encode()).hexdigest()
    maturity = int(time.time() * 1000) + MATURITY_DAYS * DAY_MS

    stage.step(
        core,
        f"issues receivable {note}: 1,000,000.00 CNY to {cast['supplier']}, due in "
        f"{MATURITY_DAYS} days",
        lambda: core.issue(note, cast["supplier"], Decimal("1000000.00"), "CNY", maturity, invoice),
    )
    cut = stage.step(
        supplier,
        f"passes 300,000.00 of {note} to {cast['sub_supplier']}",
        lambda: supplier.transfer(note, cast["sub_supplier"], Decimal("300000.00")),
        show=lambda part: f"new part {part['id']}",
    )
    stage.step(
        sub,
        "tries to pass on 400,000.00 of its 300,000.00 part",
        lambda: sub.transfer(cut["id"], cast["issuer"], Decimal("400000.00")),
        refused=True,
    )
    stage.step(
        supplier,
        f"offers the remaining 700,000.00 to {cast['bank']} for 693,000.00",
        lambda: supplier.offer(note, cast["bank"], Decimal("693000.00")),
    )
    stage.step(
        bank,
        f"discounts it (贴现): the bank now holds part {note}",
        lambda: bank.finance(note),
        show=lambda part: (
            f"holder {part['holder']}, paid {part['financed']['price']} to "
            f"{part['financed']['from']}"
        ),
    )
    holdings = Receivables(stage.public()).holdings(note)
    stage.note(
        f"{note} is held by "
        + ", ".join(f"{org} {amount}" for org, amount in sorted(holdings.items()))
        + " — together its face, 1000000.00"
    )
    if not brief:
        _crossborder(stage, governor)
        _charity(stage, governor)


def _crossborder(stage: Stage, governor: str) -> None:
    cast = stage.cast("sending_bank", "regulator", "rate_provider", "receiving_bank")
    roles = {
        "bank": [cast["sending_bank"], cast["receiving_bank"]],
        "rate_provider": [cast["rate_provider"]],
        "regulator": [cast["regulator"]],
    }
    stage.deploy(CROSSBORDER, FINANCE_VERSION, contract_source(CROSSBORDER, (governor,), roles))
    stage.ensure_roles(CrossBorder, governor, {r: orgs[-1] for r, orgs in roles.items()})
    stage.ensure_roles(CrossBorder, governor, {"bank": cast["sending_bank"]})
    provider = CrossBorder(stage.member(cast["rate_provider"], "rate provider"))
    sender = CrossBorder(stage.member(cast["sending_bank"], "bank"))
    receiver = CrossBorder(stage.member(cast["receiving_bank"], "bank"))
    regulator = CrossBorder(stage.member(cast["regulator"], "FX regulator"))
    payment = f"PAY-{stage.tag}"
    stage.step(
        provider,
        "publishes USD/CNY at 7.1234",
        lambda: provider.publish_rate("USD", "CNY", "7.1234"),
    )
    beneficiary = hashlib.sha256(f"account of the beneficiary of {payment}".encode()).hexdigest()
    stage.step(
        sender,
        f"sends {payment}: 10,000.00 USD to {cast['receiving_bank']}, paid out in CNY",
        lambda: sender.send(payment, cast["receiving_bank"], 10000, "USD", "CNY", beneficiary),
        show=lambda p: f"{p['target_amount']} CNY at rate {p['rate']}",
    )
    stage.step(receiver, f"settles {payment}", lambda: receiver.settle(payment))
    stage.step(
        regulator,
        f"flags {payment} for its quarterly review",
        lambda: regulator.flag(payment, "quarterly FX review"),
    )


def _charity(stage: Stage, governor: str) -> None:
    cast = stage.cast("charity", "donor", "second_donor")
    stage.deploy(
        CHARITY,
        FINANCE_VERSION,
        contract_source(CHARITY, (governor,), {"charity": [cast["charity"]]}),
    )
    stage.ensure_roles(Charity, governor, {"charity": cast["charity"]})
    charity = Charity(stage.member(cast["charity"], "charity"))
    donor = Charity(stage.member(cast["donor"], "donor"))
    second = Charity(stage.member(cast["second_donor"], "donor"))
    project = f"SCHOOL-{stage.tag}"
    stage.step(
        charity,
        f"opens project {project}: books for a village school, target 50,000.00 CNY",
        lambda: charity.open_project(
            project, "乡村学校图书 books for a village school", "CNY", 50000
        ),
    )
    stage.step(donor, "donates 20,000.00", lambda: donor.donate(project, 20000, "渝北 donor"))
    stage.step(second, "donates 15,000.00", lambda: second.donate(project, 15000, ""))
    receipt = hashlib.sha256(f"bookshop invoice for {project}".encode()).hexdigest()
    stage.step(
        charity,
        "spends 25,000.00 on 1,000 books",
        lambda: charity.spend(project, 25000, "1,000 books", "Xinhua bookshop", receipt),
        show=lambda s: (
            "paid by donations " + ", ".join(f"#{n} ({amount})" for n, amount in s["funded_by"])
        ),
    )
    followed = Charity(stage.public()).follow_donation(project, 0)
    stage.note(
        "donation #0 went to: "
        + ", ".join(f"{u['spending']['purpose']} ({u['amount']})" for u in followed["spent_on"])
    )
