"""The README documents every environment variable that settings.py reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r"""(?:os\.environ\.get|os\.environ\[|env_bool|env_int|env_list)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_settings_variable_is_in_the_readme_table():
    settings_text = (ROOT / "madansara" / "settings.py").read_text()
    read = set(READS.findall(settings_text))
    readme = (ROOT / "README.md").read_text()
    table = {
        name for line in readme.splitlines() if line.startswith("| `") for name in re.findall(r"`([A-Z0-9_]+)`", line)
    }
    assert len(read) > 30
    assert read - table == set(), "document these in README.md's environment table"


def test_readme_gives_the_run_and_test_commands():
    readme = (ROOT / "README.md").read_text()
    assert "```sh\nbin/run\n```" in readme and "```sh\nbin/test\n```" in readme
    assert (ROOT / "bin" / "run").exists() and (ROOT / "bin" / "test").exists()
