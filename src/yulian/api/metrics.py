"""Introduction: ``GET /metrics`` — the node's Prometheus registry in the text format, with the
event stream's own counters added to it.

The node builds the registry (``node/metrics.py``: chain, consensus, mempool, peers, storage,
process); the API contributes what only it sees: the event-stream connections and how they
ended. Rendering reads in-memory values only, never the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import PlainTextResponse, Response

from yulian.api.port import NodePort
from yulian.api.stream import StreamHub

log = logging.getLogger("yulian.api")

METRICS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format 0.0.4 (see docs/explorer.md)",
        "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
    }
}


class StreamCollector(Collector):
    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "yulian_event_subscribers",
            "event-stream connections subscribed now",
            value=self._hub.subscribers,
        )
        frames = CounterMetricFamily("yulian_event_frames", "event-stream frames sent")
        frames.add_metric([], self._hub.frames_sent)
        yield frames
        closed = CounterMetricFamily(
            "yulian_event_disconnects",
            "event-stream connections ended, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(self._hub.closed.items()):
            closed.add_metric([reason], count)
        yield closed


def router(port: NodePort, hub: StreamHub) -> APIRouter:
    registry = port.metrics
    try:
        registry.register(StreamCollector(hub))
    except ValueError:  # a second app on the same node: its registry counts the first one's
        log.warning("the node's metrics already have an event-stream collector")
    api = APIRouter()

    @api.get(
        "/metrics",
        summary="Prometheus metrics of this node",
        response_model=None,
        response_class=PlainTextResponse,
        responses=METRICS_ANSWER,
    )
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return api
