"""Panel rounds and reflections: framework-free models and services."""
