"""``criteria_variables``: mentions of measured things from the variable lexicon.

Terms and states (``thrombocytopenia``: the linker takes them only right before a value) match
case-insensitively (token ``LOWER``), abbreviations case-sensitively (``ORTH``) so that
``ALT``/``AST`` are not the words *alt*/*ast*. A surface form written with a trailing `` #``
(``"WHO #"``) names the variable only right before a number (``WHO 0-2`` is a performance status,
``WHO grade III`` and ``WHO classification`` are not); the number is not part of the mention. A name
ending in a subscript digit also matches the legacy spellings ``PaO(2)``, ``FEV_1``.
Overlaps keep the longest mention. Sets
``doc._.variable_mentions`` (spans in order) and ``span._.variable_entry`` (a ``VariableEntry``).
"""
import re

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..resources.lexicon import DEFAULT_FILENAME, load_variables
from ..serialization import FileBackedComponent, packaged_resource, save_file, saved_file
from ._phrase_tokens import phrase_tokens
from ._text import doc_text
from ._values import store_values


def _register_extensions() -> None:
    if not Doc.has_extension("variable_mentions"):
        Doc.set_extension("variable_mentions", default=None)
    if not Span.has_extension("variable_entry"):
        Span.set_extension("variable_entry", default=None)


class VariableMatcher(FileBackedComponent):
    def __init__(self, nlp: Language, name: str, lexicon_path: str | None):
        self.name = name
        _register_extensions()
        self._nlp = nlp
        self.lexicon_path = lexicon_path
        if lexicon_path is None:
            self._load(None)
        else:
            self._load_when_present(lexicon_path)

    def to_disk(self, path, *, exclude=tuple()) -> None:
        save_file(path, self.lexicon_path or packaged_resource(DEFAULT_FILENAME), DEFAULT_FILENAME)

    def from_disk(self, path, *, exclude=tuple()) -> "VariableMatcher":
        saved = saved_file(path, DEFAULT_FILENAME)
        if saved is not None:
            self._load_when_present(str(saved))
        return self

    def _load(self, lexicon_path: str | None) -> None:
        """Build the matchers from a lexicon file (None: the packaged one)."""
        nlp = self._nlp
        self.lexicon_path = lexicon_path
        self.entries = {e.name: e for e in load_variables(lexicon_path)}
        # the capital letters some scale writes its classes with ("Child-Pugh B")
        self.class_letters = frozenset(label for e in self.entries.values() for label, _, _ in e.classes)
        self.term_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.abbrev_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.before_number_matcher = Matcher(nlp.vocab)  # "WHO #": only right before a number
        self.before_number_words: set[str] = set()  # their first words, lower case (a cheap test first)
        plans = [(entry.name, matcher, attr, _split_phrases(phrases))
                 for entry in self.entries.values()
                 for matcher, phrases, attr in ((self.term_matcher, entry.terms + entry.states, "LOWER"),
                                                (self.abbrev_matcher, entry.abbreviations, "ORTH"))]
        tokens = phrase_tokens(nlp.tokenizer, (p for *_, (plain, before) in plans for p in plain + before))
        lower = _lower_getter(nlp.vocab)
        for name, matcher, attr, (plain, before_number) in plans:
            if plain:  # token ids, as PhraseMatcher reads them from a Doc of the phrase
                form = lower if attr == "LOWER" else str
                matcher.add(name, [[get_string_id(form(t)) for t in tokens[p]] for p in plain])
            for phrase in before_number:
                words = tokens[phrase]
                self.before_number_words.add(lower(words[0]))
                pattern = [{attr: lower(w) if attr == "LOWER" else w} for w in words]
                self.before_number_matcher.add(name, [pattern + [{"TEXT": {"REGEX": r"^\d"}}]])

    def _may_hold_before_number(self, doc: Doc) -> bool:
        """Whether the text holds a first word of a before-number phrase (the token Matcher costs a
        pass over every token)."""
        lowered = doc_text(doc).lower()
        return any(word in lowered for word in self.before_number_words)

    def __call__(self, doc: Doc) -> Doc:
        self._require_data()
        strings = doc.vocab.strings
        spans = []
        for matcher in (self.term_matcher, self.abbrev_matcher):
            for match_id, start, end in matcher(doc):
                span = Span(doc, start, end, label=match_id)
                spans.append(span)
        if len(self.before_number_matcher) and self._may_hold_before_number(doc):
            spans.extend(Span(doc, start, end - 1, label=match_id)  # without the number
                         for match_id, start, end in self.before_number_matcher(doc))
        mentions = sorted(filter_spans(spans), key=lambda s: s.start)
        entries = [self.entries[strings[span.label]] for span in mentions]
        for span, entry in zip(mentions, entries):
            span._.variable_entry = entry
        doc._.variable_mentions = mentions
        store_values(doc, "variable_mentions", mentions, entries)
        return doc


def lexicon_phrases(lexicon_path: str | None) -> list[str]:
    """Every phrase the component tokenizes for a lexicon file (None: the packaged one)."""
    return [p for entry in load_variables(lexicon_path) for phrases in (entry.terms + entry.states, entry.abbreviations)
            for part in _split_phrases(phrases) for p in part]


def _split_phrases(phrases) -> tuple[list[str], list[str]]:
    """(phrases matched anywhere, with their subscript spellings; phrases written with a trailing
    `` #``, without it: matched right before a number)."""
    before_number = [p[:-2] for p in phrases if p.endswith(" #")]
    return _with_subscript_forms([p for p in phrases if not p.endswith(" #")]), before_number


def _lower_getter(vocab):
    """The language's LOWER of a token text (what PhraseMatcher(attr="LOWER") compares)."""
    return vocab.lex_attr_getters.get(LOWER, str.lower) if vocab.lex_attr_getters else str.lower


# a name that ends in a subscript digit: "PaO2", "FEV1", "SpO2" (at least two letters before it)
_SUBSCRIPT_END = re.compile(r"(?<=[^\W\d_]{2})(\d)$")


def _with_subscript_forms(phrases: list[str]) -> list[str]:
    """``phrases`` plus the old typewriter spellings of a final subscript digit: ``PaO(2)``, ``FEV_1``
    for ``PaO2``, ``FEV1`` (legacy registry text cannot write a subscript)."""
    out = list(phrases)
    seen = set(phrases)
    for phrase in phrases:
        if _SUBSCRIPT_END.search(phrase):
            for form in (_SUBSCRIPT_END.sub(r"(\1)", phrase), _SUBSCRIPT_END.sub(r"_\1", phrase)):
                if form not in seen:
                    seen.add(form)
                    out.append(form)
    return out
