"""Fixtures of the shared package's tests."""

# Imported so that pytest finds them here, for the event and work tests.
from tests.helpers.probe_fixtures import private_redis, runtime

__all__ = ["private_redis", "runtime"]
