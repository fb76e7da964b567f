"""A one-way delay line for IP packets: what ``tc qdisc ... netem delay`` does, for kernels
built without netem (this project's test machines: ``CONFIG_NET_SCH_NETEM`` is not set).

Run inside a network namespace as ``python tests/e2e/delayline.py DEV DELAY_MS``: it creates
the TUN device DEV, and every packet the kernel routes into DEV is written back into it
DELAY_MS later, in order. ``tests/e2e/netns.py`` routes a namespace's outgoing traffic to its
peers through DEV (policy routing on locally generated packets), so each packet a node sends
reaches the wire DELAY_MS late: a round trip between two delayed namespaces takes twice that.
It prints ``ready`` once DEV exists, and runs until killed.
"""

from __future__ import annotations

import collections
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65535
MAX_QUEUED = 100_000  # packets; beyond it the line drops, as a full queue would


def main(device: str, delay_ms: float) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    print("ready", flush=True)
    delay_s = delay_ms / 1000
    queue: collections.deque[tuple[float, bytes]] = collections.deque()
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([fd], [], [], timeout)
        now = time.monotonic()
        if readable:
            packet = os.read(fd, MAX_PACKET)
            if len(queue) < MAX_QUEUED:
                queue.append((now + delay_s, packet))
        while queue and queue[0][0] <= now:
            os.write(fd, queue.popleft()[1])


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
