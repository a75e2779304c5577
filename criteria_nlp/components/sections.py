"""``criteria_sections``: inclusion / exclusion headings, with medspaCy's section rules.

Uses medspaCy's ``SectionRule``s (``resources/sections.json``) and its ``MedspacyMatcher``, keeping
headings that start a line, like ``medspacy_sectionizer`` with ``require_start_line``. It does not
write a ``token._.section`` on every token, which is most of ``medspacy_sectionizer``'s cost here
(about a sixth of the whole pipeline's time on the ClinicalTrials.gov sample). Sets
``doc._.section_headings``: ``[(start_token, end_token, category)]`` in order.
``criteria_structure`` reads it (or ``doc._.sections`` when the medspaCy sectionizer ran instead).
"""
import re

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.section_detection import SectionRule
from medspacy.section_detection.util import is_start_line
from spacy.language import Language
from spacy.tokens import Doc

DEFAULT_NEWLINE = r"[\n\r]+[\s]*$|^[ \t]+$"


class SectionHeadings:
    def __init__(self, nlp: Language, name: str, rules: str, newline_pattern: str):
        self.name = name
        if not Doc.has_extension("section_headings"):
            Doc.set_extension("section_headings", default=None)
        self.matcher = MedspacyMatcher(nlp, name=f"{name}_matcher", phrase_matcher_attr="LOWER")
        self.matcher.add(SectionRule.from_json(rules))
        self.newline = re.compile(newline_pattern)

    def __call__(self, doc: Doc) -> Doc:
        headings = []
        for match_id, start, end in sorted(self.matcher(doc), key=lambda m: m[1]):
            if is_start_line(start, doc, self.newline):
                rule = self.matcher.rule_map[doc.vocab.strings[match_id]]
                headings.append((start, end, rule.category))
        doc._.section_headings = headings
        return doc


@Language.factory(
    "criteria_sections",
    default_config={"rules": None, "newline_pattern": DEFAULT_NEWLINE},
    assigns=["doc._.section_headings"],
)
def make_sections(nlp: Language, name: str, rules: str | None, newline_pattern: str) -> SectionHeadings:
    from pathlib import Path

    path = rules or str(Path(__file__).resolve().parent.parent / "resources" / "sections.json")
    return SectionHeadings(nlp, name, path, newline_pattern)
