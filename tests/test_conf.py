"""Configuration from the environment (linesman.conf) and how `linesman serve` fails."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linesman import conf

#: Every variable conf.load() reads; each test starts from none of them set.
ALL_VARIABLES = [name for name, _default, _meaning in conf.VARIABLES]


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in {*ALL_VARIABLES, "LINESMAN_HOME", "DATABASE_URL", "LINESMAN_SECRET_KEY"}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINESMAN_HOME", str(tmp_path))
    return monkeypatch


def test_defaults(env, tmp_path):
    config = conf.load()
    assert config.home == tmp_path.resolve()
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'linesman.sqlite3'}"
    assert config.is_sqlite
    assert (config.bind_host, config.bind_port) == ("127.0.0.1", 8000)
    assert config.public_url == "http://127.0.0.1:8000"
    assert (config.page_size, config.max_page_size) == (50, 1000)
    assert config.debug is False
    assert config.allowed_hosts == ["*"]
    assert config.redis_url is None


def test_values_are_read(env):
    env.setenv("LINESMAN_BIND", "0.0.0.0:9000")
    env.setenv("LINESMAN_PAGE_SIZE", "25")
    env.setenv("DATABASE_URL", "postgres://u:p@db:5432/linesman")
    env.setenv("LINESMAN_SECRET_KEY", "k" * 40)
    env.setenv("LINESMAN_DEBUG", "true")
    env.setenv("LINESMAN_ALLOWED_HOSTS", "a.example, b.example")
    config = conf.load()
    assert (config.bind_host, config.bind_port) == ("0.0.0.0", 9000)
    assert config.public_url == "http://127.0.0.1:9000"
    assert config.page_size == 25
    assert not config.is_sqlite
    assert config.secret_key == "k" * 40
    assert config.debug is True
    assert config.allowed_hosts == ["a.example", "b.example"]


def test_ipv6_bind(env):
    env.setenv("LINESMAN_BIND", "[::1]:8080")
    config = conf.load()
    assert (config.bind_host, config.bind_port) == ("::1", 8080)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LINESMAN_BIND", "nonsense"),
        ("LINESMAN_BIND", "127.0.0.1:http"),
        ("LINESMAN_BIND", "127.0.0.1:70000"),
        ("LINESMAN_BIND", ":8000"),
        ("LINESMAN_PAGE_SIZE", "many"),
        ("LINESMAN_PAGE_SIZE", "0"),
        ("LINESMAN_PAGE_SIZE", "1001"),
        ("LINESMAN_MAX_PAGE_SIZE", "-1"),
        ("DATABASE_URL", "mysql://u@db/x"),
        ("DATABASE_URL", "oracle://u@db/x"),
        ("LINESMAN_SECRET_KEY", "too-short"),
        ("LINESMAN_DEBUG", "perhaps"),
        ("LINESMAN_THREADS", "0"),
        ("REDIS_URL", "http://cache:6379"),
        ("LINESMAN_PUBLIC_URL", "ftp://example.com"),
        ("LINESMAN_STATUS_GRACE", "-5"),
    ],
)
def test_invalid_value_raises_config_error_naming_the_variable(env, variable, value):
    env.setenv(variable, value)
    with pytest.raises(conf.ConfigError) as error:
        conf.load()
    assert variable in str(error.value)
    assert "\n" not in str(error.value)


def test_page_size_above_max_page_size(env):
    env.setenv("LINESMAN_PAGE_SIZE", "200")
    env.setenv("LINESMAN_MAX_PAGE_SIZE", "100")
    with pytest.raises(conf.ConfigError, match="LINESMAN_PAGE_SIZE"):
        conf.load()


def test_generated_secret_key_file_is_private_and_reused(env, tmp_path):
    first = conf.load().secret_key
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert conf.load().secret_key == first


def test_truncated_secret_key_file_is_a_config_error(env, tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(conf.ConfigError, match="LINESMAN_SECRET_KEY"):
        conf.load()


def test_home_that_is_a_file_is_a_config_error(env, tmp_path):
    (tmp_path / "file").write_text("x")
    env.setenv("LINESMAN_HOME", str(tmp_path / "file"))
    with pytest.raises(conf.ConfigError, match="LINESMAN_HOME"):
        conf.load()


def test_explicit_secret_key_writes_no_file(env, tmp_path):
    env.setenv("LINESMAN_SECRET_KEY", "s" * 32)
    assert conf.load().secret_key == "s" * 32
    assert not (tmp_path / "secret_key").exists()


def test_home_directory_is_created(env, tmp_path):
    env.setenv("LINESMAN_HOME", str(tmp_path / "a" / "b"))
    assert conf.load().home == (tmp_path / "a" / "b").resolve()
    assert (tmp_path / "a" / "b").is_dir()


# --- `linesman serve` fails fast with one line ---------------------------------------------


def _serve(tmp_path, **env):
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTEST_VERSION" and k not in ALL_VARIABLES and not k.startswith("DJANGO_")
    }
    child_env.pop("DATABASE_URL", None)
    child_env.pop("REDIS_URL", None)
    child_env.update(LINESMAN_HOME=str(tmp_path), **env)
    started = time.monotonic()
    script = Path(sys.executable).with_name("linesman")  # the installed console script
    command = [str(script)] if script.exists() else [sys.executable, "-m", "linesman"]
    result = subprocess.run(
        [*command, "serve"],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, time.monotonic() - started


def test_serve_with_unreachable_database(tmp_path):
    result, elapsed = _serve(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/x")
    assert result.returncode != 0
    assert "database unreachable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout
    assert elapsed < 15


def test_serve_with_bad_bind(tmp_path):
    result, elapsed = _serve(tmp_path, LINESMAN_BIND="nonsense")
    assert result.returncode != 0
    assert "configuration error" in result.stderr
    assert "LINESMAN_BIND" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < 15


def test_serve_refuses_a_port_another_server_listens_on(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result, elapsed = _serve(tmp_path, LINESMAN_BIND=f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "listening" not in result.stdout
    assert elapsed < 15


@pytest.mark.parametrize(("cores", "threads"), [(1, 3), (2, 5), (3, 7), (4, 8), (64, 8)])
def test_default_threads_never_exceed_what_the_cores_can_run(cores, threads):
    # granian warns above 2 x cores + 1 blocking threads; the default stays within it.
    assert conf.default_threads(cores) == threads
