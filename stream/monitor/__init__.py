"""The drift monitor process: scoring log and labels in, drift reports and metrics out.

Why a plain confluent-kafka consumer and not a Faust agent like the scoring worker:
- It keeps no co-partitioned state. The monitor compares *all* traffic with one profile, so it is
  one consumer-group member reading every partition of two topics; its state (window counts,
  the label join) is in memory and bounded, and is rebuilt from the scoring log itself after a
  restart (below), so it needs neither RocksDB tables nor changelog topics.
- Its windows are simple (tumbling, by count or event time) and its output is one record per
  window: a poll loop states "publish, then commit" directly, where Faust would commit on its
  own schedule, regardless of whether the window's report has been published.
- It stays independent of the engine's crash behaviour: the measured faust-streaming 0.15.3
  losses and stuck commits after a restart (README, Reliability) cannot touch the component
  that is meant to notice when the stream misbehaves, and a monitor crash cannot disturb the
  workers.
- It is fast: raw confluent-kafka consumes at 10x Faust's per-event rate here, so the
  monitor catches up on a backlog quickly; pydantic decoding is what costs.

Delivery: at least once. Offsets are committed only after the window's report is delivered,
and only up to that window's last record; the open window's records are read again after a
restart. A crash between publishing and committing publishes that window again, under the same
`report_id` when the recomputed window is the same (time windows are; count windows are when
the partitions interleave the same way), so readers can drop repeats.

On start the label join is refilled: the scoring log is read again from `label_maturity_days`
(plus a day) back, by record timestamp, up to the committed offsets, into the join only, and
the labels topic from the same point; so events scored before a restart still get their labels.
"""

from stream.monitor.metrics import MonitorMetrics
from stream.monitor.runner import MonitorConfig, MonitorRunner, monitor_config

__all__ = ["MonitorConfig", "MonitorMetrics", "MonitorRunner", "monitor_config"]
