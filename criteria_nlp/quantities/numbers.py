"""Number surface forms → floats (pure functions)."""
from __future__ import annotations

import re

# 1,500  1,500.5  100 000 (a space, no-break or thin space between groups of three)  12  12.5  .5
# 1,5 (decimal comma)  −2.5 (after a comparator). A spaced group never starts right after "digit space"
# ("2001 103 335" is no number 103335).
_GROUP_SPACE = r"[ \u00a0\u2009\u202f]"  # between groups of three digits: a space, no-break or thin space
# a number without its sign; "(?![\d])" after it
NUMBER_BODY = (
    rf"(?:(?<!\d{_GROUP_SPACE})\d{{1,3}}(?:{_GROUP_SPACE}\d{{3}})+(?:\.\d+)?"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
)
NUMBER_PATTERN = rf"(?<![\w.,])[-−]?{NUMBER_BODY}(?![\d])"
# NUMBER_PATTERN for scanning a whole text: the same matches, faster. Python's ``re`` jumps straight
# to the positions whose character is in a pattern's leading character class, but tries every
# position of the text when the pattern starts with a look-behind. So this one starts with the
# possible first characters, then checks the character before that one (``(?<![\w.,].)``), then
# reads the rest of the number according to the first character (``(?<=...)``).
NUMBER_SCAN_PATTERN = (
    r"[-−.\d](?<![\w.,].)"
    r"(?:(?<=[-−])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"  # sign, then a number
    rf"|(?<=\d)(?:(?<!\d{_GROUP_SPACE}\d)\d{{0,2}}(?:{_GROUP_SPACE}\d{{3}})+(?:\.\d+)?"  # 100 000
    r"|\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?)"  # the rest after the first digit
    r"|(?<=\.)\d+)"  # .5
    r"(?![\d])"
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_THOUSANDS = re.compile(rf"^\d{{1,3}}(?:([,]|{_GROUP_SPACE})\d{{3}})(?:\1\d{{3}})*(?:\.\d+)?$")
_GROUP_SEPARATORS = str.maketrans("", "", ", \u00a0\u2009\u202f")


def parse_number(surface: str) -> float | None:
    """``"1,500"`` → 1500.0, ``"100 000"`` → 100000.0, ``".5"`` → 0.5, ``"1,5"`` → 1.5 (decimal comma), ``"10⁹"`` → 1e9."""
    s = surface.strip().replace("−", "-").translate(_SUPERSCRIPTS)
    if not s:
        return None
    if _THOUSANDS.match(s.lstrip("-")):
        s = s.translate(_GROUP_SEPARATORS)
    elif "," in s:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None
