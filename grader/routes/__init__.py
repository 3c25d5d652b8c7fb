"""Routers of the HTTP API, one resource a module, mounted by ``grader.api.create_app``."""
