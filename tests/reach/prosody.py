"""The Prosody the XMPP tests talk to: started by .ci/prosody (127.0.0.1:15222).

Tests skip, saying why, only when Prosody is not installed (.ci/run installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SERVER = ("127.0.0.1", 15222)
ACS = ("acs@localhost", "acs-secret")
CPES = [(f"cpe{n}@localhost", f"cpe{n}-secret") for n in range(1, 5)]
SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "prosody"
#: The accounts are shared, and an account logged in twice has one session kicked: the tests
#: that use them run in one pytest-xdist worker (`--dist loadgroup`, README's test command).
ONE_WORKER = pytest.mark.xdist_group("prosody")


def ensure_prosody() -> tuple[str, int]:
    """Start the test Prosody and its accounts (idempotent); skip when not installed."""
    if shutil.which("prosodyctl") is None:
        pytest.skip("Prosody is not installed (apt-get install prosody, or .ci/prosody --install)")
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return SERVER
