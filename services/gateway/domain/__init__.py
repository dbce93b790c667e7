"""Edge rules as plain Python (no I/O): who may call what, who may see which event."""
