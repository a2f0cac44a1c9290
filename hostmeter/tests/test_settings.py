"""Settings: importing them writes nothing; the `hostmeter` command keeps one secret key."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from hostmeter.__main__ import data_dir_prepare

REPO = Path(__file__).resolve().parents[2]
PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def _settings_key(data_dir: Path, **env: str) -> str:
    """SECRET_KEY as a fresh process importing the production settings sees it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOSTMETER_")}
    clean |= {"HOSTMETER_DATA_DIR": str(data_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    clean |= {"DJANGO_SETTINGS_MODULE": "hostmeter.settings", **env}
    code = f"import django; django.setup(); {PRINT_KEY}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_settings_writes_nothing(tmp_path):
    data_dir = tmp_path / "var"
    first, second = _settings_key(data_dir), _settings_key(data_dir)
    assert not data_dir.exists()
    assert first and second and first != second, "each such process has a key of its own"


def test_the_command_generates_the_key_once_and_the_settings_read_it(tmp_path, monkeypatch):
    data_dir = tmp_path / "var"
    monkeypatch.setenv("HOSTMETER_DATA_DIR", str(data_dir))
    monkeypatch.delenv("HOSTMETER_SECRET_KEY", raising=False)
    data_dir_prepare()
    key = (data_dir / "secret_key").read_text()
    assert len(key) >= 50
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600
    assert (data_dir / "static").is_dir()
    data_dir_prepare()
    assert (data_dir / "secret_key").read_text() == key
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key", "static"]
    assert _settings_key(data_dir) == key


def test_a_configured_key_wins_and_none_is_written(tmp_path, monkeypatch):
    data_dir = tmp_path / "var"
    monkeypatch.setenv("HOSTMETER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HOSTMETER_SECRET_KEY", "$configured-key")
    data_dir_prepare()
    assert not (data_dir / "secret_key").exists()
    assert _settings_key(data_dir, HOSTMETER_SECRET_KEY="$configured-key") == "$configured-key"
