"""Create the registry's topics on a broker (idempotent), or say why it cannot."""

from __future__ import annotations

import argparse
import sys

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from kernel.config import get_settings
from kernel.topics import TopicSpec, all_topics


def ensure_topics(bootstrap: str, replication_factor: int, topics: tuple[TopicSpec, ...]) -> list[str]:
    """Create missing topics; returns the names created. Existing topics must already
    have the declared partition count, since a table's changelog is co-partitioned
    with its source and partitions cannot shrink."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="dealpulse-topic-admin")
    try:
        existing = {
            t["name"]: len(t["partitions"]) for t in admin.describe_topics([s.name for s in topics]) if not t["error_code"]
        }
        mismatched = [
            f"{s.name}: has {existing[s.name]} partitions, registry says {s.partitions}"
            for s in topics
            if s.name in existing and existing[s.name] != s.partitions
        ]
        if mismatched:
            raise RuntimeError("topics disagree with the registry:\n  " + "\n  ".join(mismatched))
        missing = [s for s in topics if s.name not in existing]
        created = []
        for spec in missing:
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.broker_config())]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Create Dealpulse topics from the registry.")
    parser.add_argument("command", choices=["create"])
    parser.parse_args()
    settings = get_settings()
    try:
        created = ensure_topics(settings.kafka_bootstrap, settings.kafka_replication_factor, all_topics())
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print(f"topics: {len(created)} created, {len(all_topics()) - len(created)} already present")


if __name__ == "__main__":
    main()
