"""Helpers shared by the test suites.

- kafka_env: where the tests' Kafka comes from (env var, Testcontainers or the local launcher).
- topics: unique topic names, creating topics and waiting until they have leaders.
- clients: a producer that partitions like the Java client, reading a topic to its end.
- faust_worker: a Faust worker run as a subprocess, ready-checked, logged and always stopped.
- exported_metrics: the Prometheus series the code registers, read from its source.
"""
