"""Consensus: vote sets and commit certificates (the BFT engine plugs in here).

Pure: no sockets, asyncio, storage or clock.
"""
