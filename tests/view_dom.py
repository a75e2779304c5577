"""Reading a reviewer-view page back: the criteria texts, the highlighted pieces and the rule rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

KINDS = ("variable", "value", "unit", "condition", "gold", "gold-variable", "pred", "pred-variable")


@dataclass
class Page:
    texts: list[str] = field(default_factory=list)  # each <pre class="criteria-text">, unescaped
    # (text index, kind, owner id) -> the highlighted characters, in order
    marked: dict[tuple[int, str, str], str] = field(default_factory=lambda: defaultdict(str))
    rows: list[list[str]] = field(default_factory=list)  # rule table rows: cell texts
    tags: set[str] = field(default_factory=set)
    urls: list[str] = field(default_factory=list)  # every src/href value


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.in_pre = False
        self.spans: list[dict[str, str]] = []  # open <span> attributes inside the text
        self.row: list[str] | None = None
        self.cell: str | None = None
        self.in_rules = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.page.tags.add(tag)
        self.page.urls.extend(v for k, v in attrs if k in ("src", "href") and v is not None)
        if tag == "pre" and "criteria-text" in (a.get("class") or ""):
            self.in_pre = True
            self.page.texts.append("")
        elif tag == "span" and self.in_pre:
            self.spans.append(a)
        elif tag == "table":
            self.in_rules = "rules" in (a.get("class") or "")
        elif tag == "tr" and self.in_rules:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "pre" and self.in_pre:
            self.in_pre = False
            index = len(self.page.texts) - 1
            # HTML drops one line break right after <pre> (the page writes one so that a text's own
            # leading line break survives); do the same
            self.page.texts[index] = self.page.texts[index].removeprefix("\n")
        elif tag == "span" and self.in_pre and self.spans:
            self.spans.pop()
        elif tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.page.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.in_pre:
            index = len(self.page.texts) - 1
            self.page.texts[index] += data
            for attrs in self.spans:
                for kind in KINDS:
                    for owner in (attrs.get(f"data-{kind}") or "").split():
                        self.page.marked[index, kind, owner] += data
        if self.cell is not None:
            self.cell += data


def parse_page(html_text: str) -> Page:
    reader = _Reader()
    reader.feed(html_text)
    reader.close()
    return reader.page


def check_highlights(page: Page, index: int, result: dict, text: str) -> dict[str, int]:
    """Assert that every rule's variable and conditions are marked in text ``index`` exactly at their
    offsets, and its value and unit inside the rule; count the rules with each kind marked."""
    counts: dict[str, int] = defaultdict(int)
    for crit in result["criteria"]:
        for rule in crit["rules"]:
            rid = rule["id"]
            counts["rules"] += 1
            if rule["variable"]:
                assert page.marked[index, "variable", rid] == rule["variable"]["text"], rid
                counts["variable"] += 1
            positions = sorted({p for c in rule["conditions"] for p in range(c["start"], c["end"])})
            assert page.marked.get((index, "condition", rid), "") == "".join(text[p] for p in positions), rid
            counts["condition"] += bool(positions)
            value = page.marked.get((index, "value", rid), "")
            assert value.strip() and value in rule["text"], rid
            counts["value"] += 1
            unit = page.marked.get((index, "unit", rid), "")
            if unit:
                assert unit == rule["unit_text"], rid
                counts["unit"] += 1
    return dict(counts)
