from feedback.cli import entrypoint

entrypoint()
