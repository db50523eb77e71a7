from feedback.cli.main import entrypoint

entrypoint()
