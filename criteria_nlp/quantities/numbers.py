"""Number surface forms → floats (pure functions)."""
from __future__ import annotations

import re

# 1,500  1,500.5  12  12.5  .5  1,5 (decimal comma)  −2.5 (after a comparator)
NUMBER_PATTERN = (
    r"(?<![\w.,])[-−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
)
# NUMBER_PATTERN for scanning a whole text: the same matches, faster. Python's ``re`` jumps straight
# to the positions whose character is in a pattern's leading character class, but tries every
# position of the text when the pattern starts with a look-behind. So this one starts with the
# possible first characters, then checks the character before that one (``(?<![\w.,].)``), then
# reads the rest of the number according to the first character (``(?<=...)``).
NUMBER_SCAN_PATTERN = (
    r"[-−.\d](?<![\w.,].)"
    r"(?:(?<=[-−])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"  # sign, then a number
    r"|(?<=\d)(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?)"  # the rest after the first digit
    r"|(?<=\.)\d+)"  # .5
    r"(?![\d])"
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
