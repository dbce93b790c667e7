"""Dealpulse shared kernel: what every service needs and nothing domain-specific.

Topic registry, event envelope, Kafka and Faust plumbing, gRPC bootstrap, auth,
telemetry, configuration, the injectable clock and the per-entity deadline store.
"""
