"""Introduction: the trace templates a consortium starts from — what each role may record.

A template is data the governors put on chain with ``define_template``: the roles that may
create a batch, and per event kind the roles that may record it, whether only the batch's
custodian may (``custody``) and whether the event closes the batch (``closes``). Custody
hand-overs, splits and merges are recorded by the contract itself in every template.

- ``tea`` — Pu'er tea and specialty farm produce (普洱茶 / 特色农产品): grower, processor,
  logistics, retailer, inspector.
- ``produce`` — fresh farm produce (水果、蔬菜) with cold-chain readings.
- ``elevator`` — elevator safety (智信电梯安全链): the owner (property manager) holds the
  elevator; the manufacturer creates it, installers, maintainers and inspectors record
  installation, maintenance, repairs, inspections and safety certificates.
- ``relic`` — museum relics (文博链): the museum holds a relic; provenance, appraisals,
  condition reports, restorations and loans (a loan is a custody hand-over to the borrowing
  museum and back, with the loan terms recorded).
"""

from __future__ import annotations

from typing import Any


def _rule(roles: list[str], *, custody: bool = False, closes: bool = False) -> dict[str, Any]:
    return {"roles": roles, "custody": custody, "closes": closes}


TEA: dict[str, Any] = {
    "name": "tea",
    "create": ["grower"],
    "rules": {
        "planted": _rule(["grower"], custody=True),
        "fertilised": _rule(["grower"], custody=True),
        "harvested": _rule(["grower"], custody=True),
        "withered": _rule(["processor"], custody=True),
        "processed": _rule(["processor"], custody=True),
        "packaged": _rule(["processor"], custody=True),
        "shipped": _rule(["logistics"], custody=True),
        "temperature": _rule(["logistics"], custody=True),
        "delivered": _rule(["logistics"], custody=True),
        "stocked": _rule(["retailer"], custody=True),
        "sold": _rule(["retailer"], custody=True, closes=True),
        "inspected": _rule(["inspector"]),
        "certified": _rule(["inspector"]),
        "recalled": _rule(["inspector"], closes=True),
    },
}

PRODUCE: dict[str, Any] = {
    "name": "produce",
    "create": ["grower"],
    "rules": {
        "planted": _rule(["grower"], custody=True),
        "sprayed": _rule(["grower"], custody=True),
        "harvested": _rule(["grower"], custody=True),
        "graded": _rule(["processor"], custody=True),
        "packed": _rule(["processor"], custody=True),
        "cold_chain": _rule(["logistics"], custody=True),
        "delivered": _rule(["logistics"], custody=True),
        "stocked": _rule(["retailer"], custody=True),
        "sold": _rule(["retailer"], custody=True, closes=True),
        "residue_test": _rule(["inspector"]),
        "certified": _rule(["inspector"]),
        "recalled": _rule(["inspector"], closes=True),
    },
}

ELEVATOR: dict[str, Any] = {
    "name": "elevator",
    "create": ["manufacturer"],
    "rules": {
        "manufactured": _rule(["manufacturer"], custody=True),
        "installed": _rule(["installer"]),
        "maintained": _rule(["maintainer"]),
        "fault_reported": _rule(["owner", "maintainer"]),
        "repaired": _rule(["maintainer"]),
        "inspected": _rule(["inspector"]),
        "certified": _rule(["inspector"]),
        "certificate_withdrawn": _rule(["inspector"]),
        "decommissioned": _rule(["owner"], custody=True, closes=True),
    },
}

RELIC: dict[str, Any] = {
    "name": "relic",
    "create": ["museum"],
    "rules": {
        "acquired": _rule(["museum"], custody=True),
        "provenance": _rule(["museum", "appraiser"]),
        "appraised": _rule(["appraiser"]),
        "condition_report": _rule(["conservator", "museum"]),
        "restored": _rule(["conservator"]),
        "loan_agreed": _rule(["museum"], custody=True),
        "exhibited": _rule(["museum"], custody=True),
        "loan_returned": _rule(["museum"], custody=True),
        "deaccessioned": _rule(["museum"], custody=True, closes=True),
    },
}

TEMPLATES: dict[str, dict[str, Any]] = {t["name"]: t for t in (TEA, PRODUCE, ELEVATOR, RELIC)}


def roles_of(template: dict[str, Any]) -> list[str]:
    """Every role a template names, sorted."""
    names = set(template["create"])
    for rule in template["rules"].values():
        names.update(rule["roles"])
    return sorted(names)
