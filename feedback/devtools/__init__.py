"""Development-only tools (time travel). Mounted only with FEEDBACK_DEV_TOOLS in development."""
