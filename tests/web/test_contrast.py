"""Text contrast of the pages' colours (WCAG 2.x relative luminance): 4.5:1 or more for text, read from the style
sheets' own custom properties, so a colour changed there is checked again."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "server" / "console" / "static" / "console.css"
KIOSK = ROOT / "server" / "kiosk" / "static" / "kiosk.css"


def _vars(css: Path) -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", css.read_text()).group(1)
    return dict(re.findall(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})", root))


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_formula():
    assert round(contrast("#000", "#fff"), 1) == 21.0 and round(contrast("#777", "#fff"), 2) == 4.48


C = _vars(CONSOLE)
K = _vars(KIOSK)
CONSOLE_PAIRS = [("fg", "bg"), ("fg", "card"), ("muted", "card"), ("muted", "bg"), ("brand", "card"),
                 ("ok", "ok-bg"), ("warn", "warn-bg"), ("bad", "bad-bg"), ("info", "info-bg"), ("bad", "card")]
KIOSK_PAIRS = [("fg", "bg"), ("muted", "bg")]


@pytest.mark.parametrize("fg,bg", CONSOLE_PAIRS)
def test_console_text_contrast(fg, bg):
    assert contrast(C[fg], C[bg]) >= 4.5, (fg, bg, round(contrast(C[fg], C[bg]), 2))


def test_console_top_bar_and_buttons():
    assert contrast("#ffffff", C["brand"]) >= 4.5  # the top bar's links and the primary buttons


@pytest.mark.parametrize("fg,bg", KIOSK_PAIRS)
def test_kiosk_text_contrast(fg, bg):
    assert contrast(K[fg], K[bg]) >= 4.5, (fg, bg, round(contrast(K[fg], K[bg]), 2))


def test_kiosk_badges():
    assert contrast("#ffffff", K["bad"]) >= 4.5  # "n not recorded"
    assert contrast("#000000", K["late"]) >= 4.5  # "n waiting to send"
    assert contrast("#ffffff", "#17733f") >= 4.5  # "n saved punches sent"
    assert contrast("#ffffff", K["info"]) >= 4.5  # the check button
