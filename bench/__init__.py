"""Benchmarks of the Dealpulse slices against the real local broker and Redis.

`python -m bench.run` measures the actions slice next to raw aiokafka on the same
broker; `python -m bench.profile_projector` profiles the projector in-process.
Results go to `bench/results/`.
"""
