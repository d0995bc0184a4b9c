"""The versioned JSON API under /api/v1."""
