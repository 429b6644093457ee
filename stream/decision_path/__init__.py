"""The decision path: one Kafka hop from a transaction to its decision.

Read in the order an event travels:
- `app`: the Faust app (engine overrides from stream.engine applied);
- `agent`: input topic → the stage, micro-batches out;
- `stage`: validate (`intake`) → enrich (`enrich`: card state, merchant partial and the
  `merchant_view` of every partition) → batch → decide (`deciding`, `encoding`) → publish
  (`output`);
- `worker`: wires it all from settings, with the web views (`web`) and metrics (`metrics`).
"""
