"""Introduction: ``yulian bench`` — reproducible performance figures (BENCHMARK.md).

The modules, from the command down:

* ``command`` — ``yulian bench`` / ``python -m yulian.bench``: options in, exit code out;
  ``options`` — the option table from which the command line, the script parser and the
  report's echo of the options are all derived; ``terminal`` — console, progress bar, SIGTERM;
* ``runner`` — one network run; ``session`` — a started network, its set-up, its loads;
  ``network`` — the validator processes on loopback and what is read back from them;
* ``plan`` — the load plan (phases); ``driver`` — submits a plan and follows the commits;
  ``http_client`` — its keep-alive HTTP/1.1 client; ``sampling`` — the nodes' CPU and memory;
  ``workloads`` — the txs of each workload, pre-signed;
* ``observations`` — what a run observed, raw; ``figures`` — the figures and the verdict;
  ``report`` — the table, the JSON file and the plot;
* ``micro`` — per-node micro-benchmarks without a network; ``scale`` and ``scale_report`` —
  the scale curves (validators, offered load, state size); ``machine`` — the machine and its
  signature ceiling.

``docs/benchmarks.md`` has the commands and the meaning of every figure.
"""
