"""Number surface forms → floats (pure functions)."""
from __future__ import annotations

import re

# 1,500  1,500.5  12  12.5  .5  1,5 (decimal comma)  −2.5 (after a comparator)
NUMBER_PATTERN = (
    r"(?<![\w.,])[-−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_number(surface: str) -> float | None:
    """``"1,500"`` → 1500.0, ``".5"`` → 0.5, ``"1,5"`` → 1.5 (decimal comma), ``"10⁹"`` → 1e9."""
    s = surface.strip().replace("−", "-").translate(_SUPERSCRIPTS)
    if not s:
        return None
    if _THOUSANDS.match(s.lstrip("-")):
        s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None
