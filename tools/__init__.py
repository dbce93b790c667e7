"""Developer and CI tools (not shipped in the service image)."""
