"""The README documents every setting, with the default the code really has."""
import re
from pathlib import Path

from server.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [n.upper() for n in Settings.model_fields if f"`{n.upper()}`" not in README]
    assert missing == []


def _table_defaults() -> dict[str, str | None]:
    """{VARIABLE: its default as written in the Configuration table (the backticked value), or None when prose}."""
    out: dict[str, str | None] = {}
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
        values = re.findall(r"`([^`]*)`", cells[1])
        for i, name in enumerate(names):
            out[name] = values[i] if len(values) == len(names) else None
    return out


def _same(default, written: str) -> bool:
    if isinstance(default, bool):
        return written == str(default).lower()
    if isinstance(default, (int, float)):
        try:
            return float(written) == float(default)
        except ValueError:
            return False
    if isinstance(default, Path):
        return Path(written) == default
    return written == str(default)


def test_readme_defaults_match_the_settings_defaults():
    table = _table_defaults()
    wrong = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None or not isinstance(default, (str, int, float, bool, Path)):
            continue  # computed at run time ("generated", "CPU cores", "model's calibrated value" ...)
        written = table.get(name.upper())
        if written is None or not _same(default, written):
            wrong.append(f"{name.upper()}: README {written!r}, code {default!r}")
    assert wrong == []


def test_the_check_reads_the_table():
    table = _table_defaults()
    assert table["PORT"] == "8000" and table["HOST"] == "0.0.0.0"
    assert table["AUTO_MIGRATE"] == "true" and table["MATCH_MARGIN"] is None  # prose: "model's calibrated value"
    assert not _same(10, "11") and not _same(True, "false") and _same(Path("./data"), "./data")
