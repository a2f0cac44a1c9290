"""Settings for the test suite (pytest): production's, plus the knobs only tests use."""

from .settings import *  # noqa: F403
from .settings import DATABASES, env

# A fixed key: the suite neither needs the data directory's key file nor creates one.
SECRET_KEY = "hostmeter-tests-only-not-a-secret"

# One test database per run, so that runs side by side do not drop each other's
# (scripts/test.sh names one per PostgreSQL run).
if test_name := env.str("HOSTMETER_TEST_DB_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": test_name}
