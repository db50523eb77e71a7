"""Caseworker pages for the survey flow: phone queue, inner-loop cases (and closures)."""
