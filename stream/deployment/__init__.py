"""The live deployment plan on the compacted control topic: published by the registry, followed
by every worker, applied between two micro-batches without a restart."""
