"""README's "First steps", run in order on a fresh data directory against a live server:
every command a new user copies must work, and the API answer the first one asks for."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.live import Database, LiveServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _first_steps_blocks() -> list[str]:
    section = re.search(r"^## First steps\n(.*?)(?=^## )", README, re.M | re.S).group(1)
    return re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)


def test_readme_first_steps_work_in_order_on_a_fresh_install(tmp_path):
    blocks = _first_steps_blocks()
    assert len(blocks) >= 3
    database = Database(tmp_path)
    server = LiveServer(tmp_path, database)
    try:
        server.cli("migrate")
        server.start()
        linesman = f"{sys.executable} -m linesman"
        outputs = []
        for block in blocks:
            script = block.replace(".venv/bin/linesman", linesman).replace(
                "http://127.0.0.1:8000", server.url
            )
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                env=server.env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, f"{block}\n---\n{result.stderr}"
            outputs.append(result.stdout)
        # The first block ends with the curl the README promises: a page of devices.
        page = json.loads(outputs[0].strip().splitlines()[-1])
        assert page == {"count": 0, "next": None, "previous": None, "results": []}
        # The last block recorded a device of the new type, in the org, with its location.
        assert "ZEQ240100001" in outputs[-1] and "r1" in outputs[-1]
        shown = json.loads(server.cli("devices", "show", "ZEQ240100001", "--json"))
        assert shown["type_short_name"] == "enterprise_router"
        images = json.loads(server.cli("firmware", "list", "--json"))
        assert [(i["version"], i["size"]) for i in images] == [("2.5.0", 24)]
    finally:
        server.stop()
        database.drop()
