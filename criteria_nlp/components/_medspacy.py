"""The parts of medspaCy the components use, imported without its side effects on the process.

``medspacy.common.medspacy_matcher`` runs ``warnings.filterwarnings("ignore")`` when imported,
which would silence every warning of the caller's process; importing inside
``warnings.catch_warnings()`` puts the caller's filters back afterwards.

medspaCy's ``MedspacyMatcher`` also calls its token ``Matcher`` when it holds no pattern (our rules
are phrase literals), and spaCy warns W036 on every such call: :func:`phrase_rules_matcher` skips
the empty token matcher instead of hiding the warning.
"""
import warnings

with warnings.catch_warnings():
    from medspacy.common.medspacy_matcher import MedspacyMatcher
    from medspacy.context import ConText
    from medspacy.context.context_graph import ConTextGraph
    from medspacy.context.context_modifier import ConTextModifier
    from medspacy.section_detection import SectionRule
    from medspacy.section_detection.util import is_start_line

__all__ = ["ConText", "ConTextGraph", "ConTextModifier", "MedspacyMatcher", "SectionRule", "is_start_line",
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
