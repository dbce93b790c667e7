"""pulse: stream analytics over activity events.

Decision (DESIGN.md, "Services"): `pulse` is the one owner of effective-visit verdicts and of the
process health indicators (lead response, stage progression completeness, customer data
completeness, forecast A/B share, effective visits per rep per day). `pulse.domain` is pure
Python: no Kafka, Faust, Redis or clock; adapters map activity events onto `domain.events`.
"""
