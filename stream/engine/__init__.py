"""Every place fraudstream changes faust-streaming's behaviour, one concern per module.

Each module names the upstream code it replaces (faust-streaming 0.15.3 / aiokafka 0.14.0 /
mode-streaming 0.7.1 line numbers) and says when it can be deleted. `install_engine` applies
them to an app before it starts; `engine_matches_pins` says whether the installed engine is
the one they were written and tested against (the worker warns when it is not).

- ordered_recovery: resume order after table recovery (the restart data-loss defect).
- positioning + delivery_guard: every partition positioned after a seek; no stale record
  delivered after one.
- prompt_fetch: a short fetch long-poll instead of the hard-coded 1.5 s.
- direct_delivery: hand each fetched record to its stream without four asyncio tasks per record.
- sensors: no per-event bookkeeping for Faust's in-memory Monitor (Prometheus replaces it).
- state_stores: table reads and writes straight on the partition's RocksDB, changelog records
  through librdkafka, persisted offsets written at commit; stores closed before the data-dir
  lock is released at exit.
- commit_flush: outputs and changelog records sent through librdkafka are delivered before any
  offset commit.
- prompt_restart: no fixed one-second waits when a worker starts and stops.
- introspection: the engine's per-partition view for operators (/consumer) and its health.
"""

from __future__ import annotations

from importlib.metadata import version

PINNED_VERSIONS = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0", "mode-streaming": "0.7.1"}


def engine_versions() -> dict[str, str]:
    return {name: version(name) for name in PINNED_VERSIONS}


def engine_matches_pins() -> bool:
    """False when the engine changed: every override must be re-checked against the new code."""
    return engine_versions() == PINNED_VERSIONS
