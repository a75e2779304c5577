"""The parts of medspaCy the components use, imported without medspaCy's side effects.

What we use (``MedspacyMatcher``, ``SectionRule``, ``is_start_line``, ConText) is a small corner of
medspaCy, but importing any medspaCy module first runs ``medspacy/__init__.py``, which imports every
component (PyRuSH, QuickUMLS → nltk → scipy.stats: about 2 s of CPU, 60 MB), registers some 30
Doc/Span/Token extensions and, through ``medspacy.common.medspacy_matcher``, runs
``warnings.filterwarnings("ignore")``, silencing every warning of the caller's process.

So, unless the caller has imported medspaCy already (then its modules are used as they are), the
modules we need are loaded under a bare ``medspacy`` package whose ``__init__`` is not run, with a
placeholder for ``quickumls`` (``medspacy.util`` imports it only for ``medspacy.load``), inside
``warnings.catch_warnings()``; afterwards every ``medspacy`` entry and the placeholder leave
``sys.modules`` again, so a later ``import medspacy`` by the caller is the full, normal import.

medspaCy's ``MedspacyMatcher`` also calls its token ``Matcher`` when it holds no pattern (our rules
are phrase literals), and spaCy warns W036 on every such call: :func:`skip_empty_token_matcher`
skips the empty token matcher instead of hiding the warning.
"""
import importlib
import importlib.util
import sys
import types
import warnings

_PARTS = (  # (module, name)
    ("medspacy.common.medspacy_matcher", "MedspacyMatcher"),
    ("medspacy.context", "ConText"),
    ("medspacy.context.context_graph", "ConTextGraph"),
    ("medspacy.context.context_modifier", "ConTextModifier"),
    ("medspacy.context.context_rule", "ConTextRule"),
    ("medspacy.section_detection.section_rule", "SectionRule"),
    ("medspacy.section_detection.util", "is_start_line"),
)


def _import_parts() -> dict:
    with warnings.catch_warnings():
        return {name: getattr(importlib.import_module(module), name) for module, name in _PARTS}


def _import_parts_without_package_init() -> dict:
    spec = importlib.util.find_spec("medspacy")
    placeholders = {"medspacy": importlib.util.module_from_spec(spec)}  # medspacy/__init__.py not run
    if "quickumls" not in sys.modules:
        quickumls = types.ModuleType("quickumls", "placeholder: medspacy.util imports it for medspacy.load only")
        quickumls.spacy_component = None
        placeholders["quickumls"] = quickumls
    sys.modules.update(placeholders)
    try:
        return _import_parts()
    finally:
        for name in [n for n in sys.modules if n == "medspacy" or n.startswith("medspacy.")]:
            del sys.modules[name]
        if "quickumls" in placeholders:
            sys.modules.pop("quickumls", None)


_parts = _import_parts() if "medspacy" in sys.modules else _import_parts_without_package_init()
MedspacyMatcher = _parts["MedspacyMatcher"]
ConText = _parts["ConText"]
ConTextGraph = _parts["ConTextGraph"]
ConTextModifier = _parts["ConTextModifier"]
ConTextRule = _parts["ConTextRule"]
SectionRule = _parts["SectionRule"]
is_start_line = _parts["is_start_line"]

__all__ = ["ConText", "ConTextGraph", "ConTextModifier", "ConTextRule", "MedspacyMatcher", "SectionRule", "is_start_line",
           "skip_empty_token_matcher"]

_TOKEN_MATCHER = "_MedspacyMatcher__matcher"


class _TokenMatcherWhenNotEmpty:
    """A spaCy ``Matcher`` that is not run (no W036) while it has no pattern."""

    def __init__(self, matcher):
        self.matcher = matcher

    def __call__(self, doc):
        return self.matcher(doc) if len(self.matcher) else []

    def __len__(self) -> int:
        return len(self.matcher)

    def __getattr__(self, name):  # add, remove, get, ... of the real Matcher
        return getattr(self.matcher, name)


def skip_empty_token_matcher(matcher: MedspacyMatcher) -> MedspacyMatcher:
    """Make ``matcher`` skip its token Matcher while that holds no pattern (in place)."""
    token_matcher = getattr(matcher, _TOKEN_MATCHER, None)
    if token_matcher is not None and not isinstance(token_matcher, _TokenMatcherWhenNotEmpty):
        setattr(matcher, _TOKEN_MATCHER, _TokenMatcherWhenNotEmpty(token_matcher))
    return matcher
