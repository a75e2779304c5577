"""``criteria_sections``: inclusion / exclusion headings, with medspaCy's section rules.

Uses medspaCy's ``SectionRule``s (``resources/sections.json``) and its ``MedspacyMatcher``, keeping
headings that start a line, like ``medspacy_sectionizer`` with ``require_start_line``. It does not
write a ``token._.section`` on every token, which is most of ``medspacy_sectionizer``'s cost here
(about a sixth of the whole pipeline's time on the ClinicalTrials.gov sample). Sets
``doc._.section_headings``: ``[(start_token, end_token, category)]`` in order.
``criteria_structure`` reads it (or ``doc._.sections`` when the medspaCy sectionizer ran instead).

:meth:`SectionHeadings.headings_in_text` finds the same headings on a string, tokenizing only the
lines that can hold one (the characters-first path, ``criteria_nlp.excerpt``).
"""
import json
import re
from bisect import bisect_right

from spacy.language import Language
from spacy.tokens import Doc

from ._medspacy import MedspacyMatcher, SectionRule, is_start_line, skip_empty_token_matcher
from ..serialization import (FileBackedComponent, load_settings, save_file, save_settings,
                             saved_file)

RULES_FILE = "sections.json"
DEFAULT_NEWLINE = r"[\n\r]+[\s]*$|^[ \t]+$"
_LETTERS = re.compile(r"[^\W\d_]+")


def _is_qualifier(word: str) -> bool:
    """A capitalised word of letters, hyphens allowed (``Angiographic``, ``Pre-registration``, ``MRI``)."""
    return word[:1].isupper() and word.replace("-", "").isalpha()


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


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
        data = _read_json(rules)  # read once: medspaCy's rules and our qualifiers
        section_rules = [SectionRule.from_dict(rule) for rule in data["section_rules"]]
        self.matcher.add(section_rules)
        skip_empty_token_matcher(self.matcher)
        self._heading_words = None
        self._literals = [rule.literal for rule in section_rules]
        qualifiers = data.get("qualifiers", {})
        self._max_qualifiers = int(qualifiers.get("max_words", 0))
        self._not_qualifiers = frozenset(word.lower() for word in qualifiers.get("not_qualifiers", ()))

    def _key_words(self) -> tuple[str, ...]:
        """A word every heading of the rules contains (the longest run of letters of each literal),
        lower case: a line without any cannot hold a heading. (The tokenizer never splits a run of
        letters of a heading word, so a matched heading's line holds it.)"""
        if self._heading_words is None:
            keys = {max(_LETTERS.findall(literal.lower()) or [literal.lower()], key=len) for literal in self._literals}
            # a key holding another ("exclusionary", "exclusion") finds no line the other misses
            self._heading_words = tuple(sorted(k for k in keys if not any(o != k and o in k for o in keys)))
        return self._heading_words

    def _candidate_lines(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of the lines of ``text`` holding a key word, in order."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case is longer: offsets would shift
            lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
        positions = set()
        for key in self._key_words():
            pos = lowered.find(key)
            while pos != -1:
                positions.add(text.rfind("\n", 0, pos) + 1)
                pos = lowered.find(key, pos + len(key))
        lines = []
        for start in sorted(positions):
            end = text.find("\n", start)
            lines.append((start, len(text) if end == -1 else end))
        return lines

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
        doc._.section_headings = self._headings(doc)
        return doc

    def _headings(self, doc: Doc) -> list[tuple[int, int, str]]:
        headings = []
        for match_id, start, end in sorted(self.matcher(doc), key=lambda m: m[1]):
            line_start = start if is_start_line(start, doc, self.newline) else self._qualified_start(doc, start, end)
            if line_start is not None:
                rule = self.matcher.rule_map[doc.vocab.strings[match_id]]
                headings.append((line_start, end, rule.category))
        return headings

    def _qualified_start(self, doc: Doc, start: int, end: int) -> int | None:
        """The first token of a heading whose literal (``doc[start:end]``) follows one to
        ``max_words`` capitalised qualifier words on its line (``Angiographic Inclusion Criteria``),
        or None. A qualifier is a word of letters (hyphens allowed) not in ``not_qualifiers``; a line
        ending with a full stop is a sentence about criteria, not a heading."""
        for first in range(start - 1, max(start - self._max_qualifiers, 0) - 1, -1):
            word = doc[first]
            if not _is_qualifier(word.text) or word.lower_ in self._not_qualifiers:
                return None
            if self.newline.search(word.text_with_ws):
                return None
            if is_start_line(first, doc, self.newline):
                return first if not self._line_ends_sentence(doc, end) else None
        return None

    def _line_ends_sentence(self, doc: Doc, end: int) -> bool:
        """Whether the line holding ``doc[end - 1]`` ends with a full stop."""
        last = end - 1
        while last + 1 < len(doc) and not self.newline.search(doc[last].text_with_ws):
            last += 1
        while last >= end and doc[last].is_space:
            last -= 1
        return doc[last].text.endswith(".")

    def headings_in_text(self, text: str) -> list[tuple[int, int, str]]:
        """``(start_char, end_char, category)`` of the headings ``__call__`` finds in a Doc of ``text``.

        Only the lines holding a key word of the rules are tokenized, joined by newlines into one
        small Doc: a phrase match never crosses a line, and whether a match starts its line depends on
        the tokens of that line alone (the first token of a line follows a token holding the newline).
        """
        self._require_data()
        lines = self._candidate_lines(text)
        if not lines:
            return []
        doc = self._nlp.tokenizer("\n".join(text[s:e] for s, e in lines))
        line_starts, offsets, pos = [], [], 0
        for s, e in lines:
            line_starts.append(pos)
            offsets.append(s - pos)
            pos += e - s + 1
        out = []
        for start, end, category in self._headings(doc):
            first, last = doc[start], doc[end - 1]
            shift = offsets[bisect_right(line_starts, first.idx) - 1]
            out.append((first.idx + shift, last.idx + len(last.text) + shift, category))
        return out
