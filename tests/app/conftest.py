"""Fast engine settings and fixtures shared by the session, learning and app tests."""

from tests.engine_fixtures import *  # noqa: F403
