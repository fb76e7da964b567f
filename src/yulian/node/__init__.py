"""The node: its configuration, network bootstrap, and (later) the asyncio shell that wires
consensus, execution, storage, the mempool, the network and the API together."""
