"""The launcher's readiness probe tells its own broker from any other that answers on the port."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient

from stream.broker.readiness import metadata_answers

pytestmark = pytest.mark.integration


def test_readiness_requires_the_expected_cluster_id(kafka_bootstrap: str) -> None:
    actual = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10).cluster_id
    assert actual
    assert metadata_answers(kafka_bootstrap)
    assert metadata_answers(kafka_bootstrap, cluster_id=actual)
    assert not metadata_answers(kafka_bootstrap, cluster_id="AAAAAAAAAAAAAAAAAAAAAA")
