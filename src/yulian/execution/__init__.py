"""Execution: the pure state transition of a block.

Pure: no sockets, asyncio, storage or clock. State comes in through a read-only view, writes
go out as a sorted write set; time and the block height come in through the block.
"""
