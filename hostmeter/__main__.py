"""The `hostmeter` console command: the project's manage.py."""

import os
import secrets
import sys
from pathlib import Path


def data_dir_prepare() -> None:
    """Creates what the settings read from the data directory, which importing them never
    does: the folder itself with its static files' folder (whitenoise warns about a
    missing one) and, without HOSTMETER_SECRET_KEY, the secret key, generated once and
    kept there so that every process of the installation signs with the same key."""
    # hostmeter.settings.DATA_DIR, computed before the settings are loaded (they read the key)
    default = Path(__file__).resolve().parent.parent / "var"
    data_dir = Path(os.environ.get("HOSTMETER_DATA_DIR", default)).resolve()
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if os.environ.get("HOSTMETER_SECRET_KEY") or key_file.exists():
        return
    # written aside and linked into place: a command started at the same moment reads
    # the whole key or none, and the first link wins
    part = data_dir / f".secret_key.{os.getpid()}"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        os.link(part, key_file)
    except FileExistsError:
        pass
    finally:
        part.unlink(missing_ok=True)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostmeter.settings")
    data_dir_prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
