"""JSON API under /api (same services as the pages; ProblemDetails on errors)."""
