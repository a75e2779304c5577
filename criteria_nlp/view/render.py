"""HTML of the reviewer view, filled into the package templates (``view/templates/``).

Every string that comes from a record (criteria text, ids, paths, warnings, rule fields) goes
through :func:`html.escape`; the templates hold the page structure and the CSS, inlined so the
page needs nothing but itself (no script, no network; a Content-Security-Policy says so).
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from importlib.resources import files
from string import Template
from typing import Any, Callable, Iterable, Mapping, Sequence

from .spans import placeable, marked_html, rule_highlights
from .studies import Study

_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@lru_cache(maxsize=None)
def template(name: str) -> Template:
    """A template file of the package (``criteria_nlp/view/templates/NAME``)."""
    return Template(files(__package__).joinpath("templates", name).read_text(encoding="utf-8"))


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def number(value: Any) -> str:
    """``80.0`` -> ``80``, ``0.99341`` -> ``0.99341``; anything else as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def page(title: str, subtitle: str, body: str) -> str:
    from ..cli import installed_version

    return template("page.html").substitute(
        title=esc(title), subtitle=esc(subtitle), body=body, version=esc(installed_version()),
        css=template("view.css").template)


def anchor_of(study: Study, index: int) -> str:
    """A unique, safe element id for a study's section."""
    return f"study-{index}-" + (_ANCHOR_UNSAFE.sub("_", study.id)[:80] or "x")


def rules_of(result: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """``(criterion, rule)`` pairs of a result, tolerant of missing or odd fields."""
    out = []
    criteria = result.get("criteria")
    for crit in criteria if isinstance(criteria, list) else ():
        if not isinstance(crit, Mapping):
            continue
        rules = crit.get("rules")
        out.extend((crit, rule) for rule in (rules if isinstance(rules, list) else ()) if isinstance(rule, Mapping))
    return out


# --------------------------------------------------------------------------- rule table cells

def _value_cell(rule: Mapping[str, Any]) -> str:
    value, high = number(rule.get("value")), number(rule.get("value_high"))
    text = f"{value} – {high}" if rule.get("comparator") == "between" or rule.get("value_high") is not None else value
    inclusive = rule.get("inclusive")
    if isinstance(inclusive, Mapping):
        excluded = [bound for bound in ("low", "high") if inclusive.get(bound) is False]
        if excluded:
            text += f" ({' and '.join(excluded)} excluded)"
    if rule.get("relative_to"):
        text += f" × {rule['relative_to']}"
    return esc(text)


def _unit_cell(rule: Mapping[str, Any]) -> str:
    unit, written = rule.get("unit"), rule.get("unit_text")
    cell = f"<code>{esc(unit)}</code>" if unit else ""
    if written and written != unit:
        cell += f' <span class="where">({esc(written)})</span>'
    return cell


def _code_cell(variable: Mapping[str, Any] | None) -> str:
    code = variable.get("code") if isinstance(variable, Mapping) else None
    if not isinstance(code, Mapping) or not code.get("code"):
        return ""
    system = str(code.get("system") or "")
    label = "LOINC " if "loinc.org" in system else ""
    return f'<span class="code" title="{esc(code.get("display"))}">{esc(label)}{esc(code.get("code"))}</span>'


def _normalized_cell(rule: Mapping[str, Any]) -> str:
    norm = rule.get("normalized")
    if not isinstance(norm, Mapping):
        return ""
    value = number(norm.get("value"))
    if norm.get("value_high") is not None:
        value += f" – {number(norm.get('value_high'))}"
    return f"{esc(value)} <code>{esc(norm.get('unit'))}</code>"


def _conditions_cell(rule: Mapping[str, Any]) -> str:
    conditions = rule.get("conditions")
    items = []
    for cond in conditions if isinstance(conditions, list) else ():
        if not isinstance(cond, Mapping):
            continue
        inherited = f' <span class="where">(from {esc(cond["inherited_from"])})</span>' \
            if cond.get("inherited_from") else ""
        items.append(f"<div><b>{esc(cond.get('kind'))}</b>: {esc(cond.get('text'))}{inherited}</div>")
    return "".join(items)


def _flags_cell(rule: Mapping[str, Any]) -> str:
    words = ["yes" if rule.get("negated") else "no"]
    if rule.get("hypothetical"):
        words.append("hypothetical")
    return esc(", ".join(words))


RULE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rule", ""), ("section", ""), ("variable", ""), ("code", ""), ("comparator", ""), ("value", "num"),
    ("unit", ""), ("normalised", "num"), ("conditions", ""), ("negated", ""), ("confidence", "num"),
)


def rule_row(criterion: Mapping[str, Any], rule: Mapping[str, Any], anchor: str) -> str:
    variable = rule.get("variable") if isinstance(rule.get("variable"), Mapping) else None
    var_cell = ""
    if variable:
        var_cell = esc(variable.get("text"))
        if variable.get("name") and variable.get("name") != variable.get("text"):
            var_cell += f' <span class="where">→ {esc(variable.get("name"))}</span>'
    confidence = rule.get("confidence")
    cells = (
        f"<code>{esc(rule.get('id'))}</code>", esc(criterion.get("section")), var_cell, _code_cell(variable),
        f"<code>{esc(rule.get('comparator'))}</code>", _value_cell(rule), _unit_cell(rule), _normalized_cell(rule),
        _conditions_cell(rule), _flags_cell(rule),
        esc(f"{confidence:.3f}") if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) else "–",
    )
    tds = "".join(f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>"
                  for (_, cls), cell in zip(RULE_COLUMNS, cells))
    row_id = f"{anchor}-{_ANCHOR_UNSAFE.sub('_', str(rule.get('id')))}"
    negated = ' class="negated"' if rule.get("negated") else ""
    return f'<tr id="{esc(row_id)}"{negated}>{tds}</tr>'


def rules_table(result: Mapping[str, Any], anchor: str) -> str:
    pairs = rules_of(result)
    if not pairs:
        return '<p class="where">No rules.</p>'
    head = "".join(f"<th>{esc(name)}</th>" for name, _ in RULE_COLUMNS)
    body = "\n".join(rule_row(crit, rule, anchor) for crit, rule in pairs)
    return f'<table class="rules"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


# --------------------------------------------------------------------------- study section

def _structured_note(result: Mapping[str, Any]) -> str | None:
    structured = result.get("structured")
    if not isinstance(structured, Mapping) or not structured:
        return None
    parts = []
    for age in structured.get("age") or []:
        if isinstance(age, Mapping):
            parts.append(f"age {age.get('comparator')} {number(age.get('value'))} {age.get('unit')} "
                         f"({age.get('field')})")
    if structured.get("sex") is not None:
        parts.append(f"sex {structured['sex']}")
    if structured.get("healthy_volunteers") is not None:
        parts.append(f"healthy volunteers {number(structured['healthy_volunteers'])}")
    return "registry fields: " + "; ".join(parts) if parts else None


def notes_html(study: Study, skipped: int) -> str:
    items: list[tuple[str, str]] = []
    if study.error:
        items.append(("error", f"error: {study.error}"))
    items.extend(("error", p) for p in study.problems if p != study.error)
    warnings = study.result.get("warnings")
    items.extend(("warning", f"warning: {w}") for w in (warnings if isinstance(warnings, list) else ()))
    structured = _structured_note(study.result)
    if structured:
        items.append(("info", structured))
    if skipped:
        items.append(("warning", f"{skipped} highlight(s) lie outside the text and are not shown"))
    if not items:
        return ""
    lis = "".join(f'<li class="{cls}">{esc(msg)}</li>' for cls, msg in items)
    return f'<ul class="notes">{lis}</ul>'


def text_block(text: str, highlights: list) -> str:
    """The criteria text with its marks; a line break after ``<pre>`` (which HTML drops) keeps a
    leading line break of the text."""
    if not text:
        return '<p class="where">(no text)</p>'
    return f'<pre class="criteria-text">\n{marked_html(text, highlights)}</pre>'


def study_html(study: Study, anchor: str) -> str:
    highlights = [h for _, rule in rules_of(study.result) for h in rule_highlights(rule)]
    text = study.text or ""
    shown = placeable(highlights, text)
    n_rules = len(rules_of(study.result))
    source = study.result.get("source") if isinstance(study.result.get("source"), Mapping) else {}
    where = source.get("path") or study.where
    return template("study.html").substitute(
        anchor=esc(anchor), study_id=esc(study.id),
        rule_count=esc(f"{n_rules} rule{'s' if n_rules != 1 else ''}"),
        where=esc(where), text_origin=esc(study.text_origin or "none"),
        notes=notes_html(study, len(highlights) - len(shown)),
        text_block=text_block(text, shown),
        rules=rules_table(study.result, anchor),
    )


def index_html(entries: Sequence[tuple[Study, str]], link: Callable[[str], str] = lambda a: f"#{a}") -> str:
    """The study list; ``link`` turns a study's anchor into its href (same page or its own file)."""
    rows = []
    for study, anchor in entries:
        warnings = study.result.get("warnings")
        status = f'<span class="status-error">error: {esc(study.error)}</span>' if study.error else "ok"
        rows.append(f'<tr><td><a href="{esc(link(anchor))}">{esc(study.id)}</a></td>'
                    f'<td class="num">{len(rules_of(study.result))}</td>'
                    f'<td class="num">{len(warnings) if isinstance(warnings, list) else 0}</td><td>{status}</td></tr>')
    return template("index.html").substitute(rows="\n".join(rows))


def _subtitle(entries: Sequence[tuple[Study, str]], note: str | None) -> str:
    n_rules = sum(len(rules_of(s.result)) for s, _ in entries)
    subtitle = f"{len(entries)} stud{'y' if len(entries) == 1 else 'ies'}, {n_rules} rules"
    return f"{subtitle} — {note}" if note else subtitle


def report_html(studies: Iterable[Study], title: str = "criteria-nlp review", note: str | None = None) -> str:
    """One page: the list of studies, then each study's text, notes and rule table."""
    entries = [(study, anchor_of(study, i)) for i, study in enumerate(studies, 1)]
    body = index_html(entries) + "\n" + "\n".join(study_html(s, a) for s, a in entries)
    return page(title, _subtitle(entries, note), body)


def report_pages(studies: Iterable[Study], title: str = "criteria-nlp review",
                 note: str | None = None) -> dict[str, str]:
    """One page per study (``<anchor>.html``) and ``index.html`` with the study list linking to them."""
    entries = [(study, anchor_of(study, i)) for i, study in enumerate(studies, 1)]
    pages = {"index.html": page(title, _subtitle(entries, note), index_html(entries, lambda a: f"{a}.html"))}
    for study, anchor in entries:
        back = '<p class="where"><a href="index.html">← all studies</a></p>'
        pages[f"{anchor}.html"] = page(f"{title}: {study.id}", _subtitle([(study, anchor)], None),
                                       back + study_html(study, anchor))
    return pages
