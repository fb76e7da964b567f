"""Introduction: the trace story (溯源) — a batch of Pu'er tea from the garden to the shelf.

The grower creates the batch and records the harvest; custody passes to the processor only
when both have signed (hand-over, take-over); the processor splits it into two lots whose
quantities sum to the batch; an inspector certifies one. Every step is signed by the
organisation that did it, and a consumer reads it all on the public trace page that the
batch's QR code opens. In full, the story also shows what the contract refuses (the grower
acting on a batch it no longer holds) and takes a lot to the shelf, where it is sold.
"""

from __future__ import annotations

from yulian.apps.stories.stage import Stage
from yulian.apps.trace import (
    CONTRACT_NAME,
    TRACE_VERSION,
    TraceApp,
    contract_source,
    trace_page_url,
)

TITLE = "溯源 trace: Pu'er tea from the garden to the shelf, read by a consumer's scan"
TEMPLATE = "tea"
ROLES = ("grower", "processor", "inspector", "retailer")


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    cast = stage.cast(*ROLES)
    governor = stage.members[0]
    stage.deploy(
        CONTRACT_NAME,
        TRACE_VERSION,
        contract_source((governor,), {role: [org] for role, org in cast.items()}),
    )
    stage.ensure_roles(TraceApp, governor, cast)
    public = TraceApp(stage.public())
    if not _has_template(public):
        admin = TraceApp(stage.admin(governor))
        stage.step(
            admin,
            f"defines the {TEMPLATE} template (who may record what)",
            lambda: admin.install_templates([TEMPLATE]),
            show=lambda roles: f"roles {', '.join(roles)}",
        )
    grower = TraceApp(stage.member(cast["grower"], "grower"))
    processor = TraceApp(stage.member(cast["processor"], "processor"))
    inspector = TraceApp(stage.member(cast["inspector"], "inspector"))
    batch = f"PE-{stage.tag}"
    lot_a, lot_b = f"{batch}-A", f"{batch}-B"

    stage.step(
        grower,
        f"creates batch {batch}: 1200 kg of Menghai raw Pu'er from the Banzhang garden",
        lambda: grower.create(
            batch, TEMPLATE, "勐海生普洱 Menghai raw Pu'er", 1200, "kg", {"garden": "Banzhang 班章"}
        ),
    )
    stage.step(
        grower,
        "records the harvest",
        lambda: grower.record(batch, "harvested", {"pickers": 14, "weather": "sunny"}),
    )
    stage.step(
        grower,
        f"hands {batch} over to {cast['processor']}",
        lambda: grower.hand_over(batch, cast["processor"]),
    )
    stage.step(
        processor,
        f"takes {batch} over (custody moves: both have signed)",
        lambda: processor.take_over(batch),
    )
    if not brief:
        stage.step(
            grower,
            f"tries to record on {batch}, which it no longer holds",
            lambda: grower.record(batch, "fertilised", {}),
            refused=True,
        )
    stage.step(
        processor,
        "records the processing",
        lambda: processor.record(batch, "processed", {"method": "sun-dried 晒青"}),
    )
    stage.step(
        processor,
        f"splits {batch} into {lot_a} (800 kg) and {lot_b} (400 kg)",
        lambda: processor.split(batch, {lot_a: 800, lot_b: 400}),
        show=lambda ids: f"lots {', '.join(ids)}",
    )
    stage.step(
        inspector,
        f"certifies {lot_a}",
        lambda: inspector.record(lot_a, "certified", {"standard": "GB/T 22111", "grade": "A"}),
    )
    if not brief:
        retailer = TraceApp(stage.member(cast["retailer"], "retailer"))
        stage.step(
            processor,
            f"hands {lot_a} over to {cast['retailer']}",
            lambda: processor.hand_over(lot_a, cast["retailer"]),
        )
        stage.step(
            retailer,
            f"takes {lot_a} over",
            lambda: retailer.take_over(lot_a),
        )
        stage.step(
            retailer,
            f"records {lot_a} stocked and sold (selling closes it)",
            lambda: (
                retailer.record(lot_a, "stocked", {"shop": "Kunming 昆明"}),
                retailer.record(lot_a, "sold", {}),
            ),
        )
        stage.step(
            retailer,
            f"records another sale of {lot_a}",
            lambda: retailer.record(lot_a, "sold", {}),
            refused=True,
        )
    seen = public.public_trace(lot_a)
    kinds = [e["kind"] for e in seen["events"]]
    origin = seen["origins"][0]
    stage.note(
        f"a consumer's scan of {lot_a} reads: {', '.join(kinds)}; "
        f"it came from {origin['batch']['id']} "
        f"({', '.join(e['kind'] + ' by ' + e['org'] for e in origin['events'])})"
    )
    page = trace_page_url(stage.url_of(cast["retailer"]), lot_a)
    stage.note(f"public trace page: {page}")
    stage.note(f"its QR code: yulian trace qr {lot_a} --network {stage.network}")


def _has_template(app: TraceApp) -> bool:
    from yulian.sdk import ApiError

    try:
        app.conn.query(app.contract, "get_template", [TEMPLATE])
    except ApiError:
        return False
    return True
