"""The forecast service. Its API arrives with its own issue; until then it only reports
health, so deployments, probes and networking can be wired and tested."""
