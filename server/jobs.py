"""Imports each domain's jobs module so their `register_job` calls run before the scheduler starts."""
import importlib

for _domain in ("attendance", "auth", "faces", "liveness"):
    try:
        importlib.import_module(f"server.{_domain}.jobs")
    except ModuleNotFoundError as exc:  # a domain without jobs
        if exc.name != f"server.{_domain}.jobs":
            raise
