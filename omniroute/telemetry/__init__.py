"""Usage records, telemetry and their storage: what every request did and cost.

``records`` (what is stored, how the API shows it), ``usage_db`` (the usage LMDB
environment and its one write transaction per flush), ``aggregate`` (a flush folded into
rollups, totals, metrics and sessions), ``queries`` (logs, history, totals, sessions, audit),
``rings`` (percentiles from preallocated ring buffers), ``metrics`` (Prometheus text),
``retention`` and ``prune`` (bounds), ``redact`` (stored bodies). The request path never
touches this package: ``omniroute.usage`` queues a request and builds its record later.
"""
