"""Introduction: ``yulian bench`` — reproducible performance figures (BENCHMARK.md).

``runner`` starts a real network of validator processes on loopback, pre-signs a workload's
txs and submits them through the public API (open loop, closed loop or stress), follows the
commits and reports; ``workloads`` generates the txs; ``report`` computes and prints the
figures (table, ``--json``, ``--plot``); ``micro`` times the per-node parts without a network
(execute-only, storage commit, decode + verify); ``scale`` draws the scale curves (validators,
offered load, state size); ``machine`` describes the machine and measures the signature
ceiling. ``docs/benchmarks.md`` has the commands and the meaning of every figure.
"""
