"""``criteria_sections``: inclusion / exclusion headings, with medspaCy's section rules.

Uses medspaCy's ``SectionRule``s (``resources/sections.json``) and its ``MedspacyMatcher``, keeping
headings that start a line, like ``medspacy_sectionizer`` with ``require_start_line``. It does not
write a ``token._.section`` on every token, which is most of ``medspacy_sectionizer``'s cost here
(about a sixth of the whole pipeline's time on the ClinicalTrials.gov sample). Sets
``doc._.section_headings``: ``[(start_token, end_token, category)]`` in order.
``criteria_structure`` reads it (or ``doc._.sections`` when the medspaCy sectionizer ran instead).
"""
import re

from spacy.language import Language
from spacy.tokens import Doc

from ._medspacy import MedspacyMatcher, SectionRule, is_start_line, skip_empty_token_matcher
from ..serialization import (FileBackedComponent, load_settings, packaged_resource, save_file, save_settings,
                             saved_file)

RULES_FILE = "sections.json"
DEFAULT_NEWLINE = r"[\n\r]+[\s]*$|^[ \t]+$"


class SectionHeadings(FileBackedComponent):
    def __init__(self, nlp: Language, name: str, rules: str, newline_pattern: str):
        self.name = name
        if not Doc.has_extension("section_headings"):
            Doc.set_extension("section_headings", default=None)
        self._nlp = nlp
        self.rules_path = rules
        self._set_newline(newline_pattern)
        self._load_when_present(rules)

    def _load(self, rules: str) -> None:
        self.rules_path = rules
        self.matcher = MedspacyMatcher(self._nlp, name=f"{self.name}_matcher", phrase_matcher_attr="LOWER")
        self.matcher.add(SectionRule.from_json(rules))
        skip_empty_token_matcher(self.matcher)

    def _set_newline(self, newline_pattern: str) -> None:
        self.newline_pattern = newline_pattern
        self.newline = re.compile(newline_pattern)

    def to_disk(self, path, *, exclude=tuple()) -> None:
        save_file(path, self.rules_path, RULES_FILE)
        save_settings(path, {"newline_pattern": self.newline_pattern})

    def from_disk(self, path, *, exclude=tuple()) -> "SectionHeadings":
        self._set_newline(load_settings(path).get("newline_pattern", self.newline_pattern))
        self._load_when_present(str(saved_file(path, RULES_FILE) or self.rules_path))
        return self

    def __call__(self, doc: Doc) -> Doc:
        self._require_data()
        headings = []
        for match_id, start, end in sorted(self.matcher(doc), key=lambda m: m[1]):
            if is_start_line(start, doc, self.newline):
                rule = self.matcher.rule_map[doc.vocab.strings[match_id]]
                headings.append((start, end, rule.category))
        doc._.section_headings = headings
        return doc


@Language.factory(
    "criteria_sections",
    default_config={"rules": None, "newline_pattern": None},
    assigns=["doc._.section_headings"],
)
def make_sections(nlp: Language, name: str, rules: str | None, newline_pattern: str | None) -> SectionHeadings:
    """``rules``/``newline_pattern`` null: the packaged ``sections.json`` / ``DEFAULT_NEWLINE``."""
    path = rules or str(packaged_resource(RULES_FILE))
    return SectionHeadings(nlp, name, path, newline_pattern or DEFAULT_NEWLINE)
