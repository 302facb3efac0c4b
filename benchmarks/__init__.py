"""pystorage's benchmark suite (``make bench`` / ``python -m benchmarks``).

It starts local servers (``servers``), runs every contender × workload in a
fresh subprocess (``runner`` → ``child``), and prints the table and the target
lines of issue 6 (``report``). See ``docs/performance.md``.
"""

#: version of the JSON written under ``benchmarks/results/``
SCHEMA_VERSION = 1
