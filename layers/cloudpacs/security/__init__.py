"""Access control, audit, change events and CORS: the security core (DESIGN.md §7)."""
