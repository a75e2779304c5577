"""``criteria_variables``: mentions of measured things from the variable lexicon.

Terms match case-insensitively (token ``LOWER``), abbreviations case-sensitively (``ORTH``) so that
``ALT``/``AST`` are not the words *alt*/*ast*. Overlaps keep the longest mention. Sets
``doc._.variable_mentions`` (spans in order) and ``span._.variable_entry`` (a ``VariableEntry``).
"""
import re

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..resources.lexicon import DEFAULT_FILENAME, load_variables
from ..serialization import FileBackedComponent, packaged_resource, save_file, saved_file
from ._values import store_values


def _register_extensions() -> None:
    if not Doc.has_extension("variable_mentions"):
        Doc.set_extension("variable_mentions", default=None)
    if not Span.has_extension("variable_entry"):
        Span.set_extension("variable_entry", default=None)


# a name ending in a subscript digit, "FEV1", "PaO2", "SpO2": registry texts also write "FEV(1)", "FEV_1"
_SUBSCRIPT = re.compile(r"(?<=[^\W\d_]{2})(\d)$")


def _with_subscript_spellings(phrases) -> list[str]:
    """The phrases, and for a one-word name ending in one digit, its spellings ``FEV(1)`` and ``FEV_1``."""
    out = list(phrases)
    for phrase in phrases:
        if " " not in phrase and _SUBSCRIPT.search(phrase):
            out += [_SUBSCRIPT.sub(r"(\1)", phrase), _SUBSCRIPT.sub(r"_\1", phrase)]
    return list(dict.fromkeys(out))


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
        tokenize = getattr(nlp.tokenizer, "pipe", None)  # spaCy's Tokenizer.pipe: no Doc-by-Doc overhead
        for entry in self.entries.values():
            for matcher, phrases in ((self.term_matcher, entry.terms), (self.abbrev_matcher, entry.abbreviations)):
                phrases = _with_subscript_spellings(phrases)
                if phrases:
                    matcher.add(entry.name, list(tokenize(phrases)) if tokenize else [nlp.make_doc(p) for p in phrases])

    def __call__(self, doc: Doc) -> Doc:
        self._require_data()
        strings = doc.vocab.strings
        spans = []
        for matcher in (self.term_matcher, self.abbrev_matcher):
            for match_id, start, end in matcher(doc):
                span = Span(doc, start, end, label=match_id)
                spans.append(span)
        mentions = sorted(filter_spans(spans), key=lambda s: s.start)
        entries = [self.entries[strings[span.label]] for span in mentions]
        for span, entry in zip(mentions, entries):
            span._.variable_entry = entry
        doc._.variable_mentions = mentions
        store_values(doc, "variable_mentions", mentions, entries)
        return doc


@Language.factory(
    "criteria_variables",
    default_config={"lexicon_path": None},
    assigns=["doc._.variable_mentions", "span._.variable_entry"],
)
def make_variables(nlp: Language, name: str, lexicon_path: str | None) -> VariableMatcher:
    return VariableMatcher(nlp, name, lexicon_path)
