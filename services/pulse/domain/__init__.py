"""Pure domain of the pulse service: events in, verdicts and indicators out, no I/O."""
