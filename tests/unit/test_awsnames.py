"""Region names are checked against botocore's own partition data, read with or without its loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import awsnames


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    awsnames.known_regions.cache_clear()
    yield
    awsnames.known_regions.cache_clear()


def test_direct_read_and_botocore_loader_agree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    direct = dict(awsnames.known_regions())
    awsnames.known_regions.cache_clear()
    # Custom data makes the module defer to botocore's loader, which layers it over the bundled files.
    (tmp_path / ".aws" / "models").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert awsnames.known_regions() == direct
    assert direct["us-east-1"] == "aws" and direct["us-gov-west-1"] == "aws-us-gov" and direct["cn-north-1"] == "aws-cn"


def test_custom_partition_data_is_honoured(tmp_path: Path) -> None:
    import subprocess
    import sys

    from botocore.loaders import create_loader

    data = create_loader().load_data("endpoints")
    data["partitions"][0]["regions"]["xx-test-1"] = {"description": "a region only this data knows"}
    models = tmp_path / "with" / ".aws" / "models"
    models.mkdir(parents=True)
    (models / "endpoints.json").write_text(json.dumps(data), encoding="utf-8")
    # botocore reads ~ when it is imported, so each home is tried in a fresh interpreter.
    code = "from assistant import awsnames\nprint(awsnames.region_problem('xx-test-1'))\n"
    for home, known in ((tmp_path / "with", True), (tmp_path / "without", False)):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"HOME": str(home)})
        assert (out.stdout.strip() == "None") is known, out.stdout


def test_validate_path_does_not_import_botocore_loaders() -> None:
    import subprocess
    import sys

    code = "import sys\nfrom assistant import awsnames\nawsnames.known_regions()\nprint('botocore.loaders' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PATH": "", "HOME": "/nonexistent"}
    )
    assert out.stdout.strip() == "False"
