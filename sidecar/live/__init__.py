"""Live updates of a meeting's shared state (agenda, meeting, goals, next steps) to both panels."""
