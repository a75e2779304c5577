"""The spaCy factories of criteria-nlp, declared in one light module.

Every ``Language()`` (``spacy.blank``, ``spacy.load``) imports all ``spacy_factories`` entry
points of the environment (``spacy.language.Language.__init__`` calls
``registry._entry_point_factories.get_all()``, which loads each one). Our entry points name the
functions of this module, so a spaCy user with criteria-nlp installed imports only this file at
each start, not our component modules. Each factory here declares the component's name, default
config, the attributes it reads and sets, and its typed arguments (which spaCy validates the
config against); it imports the component's module when the component is first built.

Importing this module (or ``criteria_nlp.components``) registers the factories where the entry
points are not installed (a checkout on ``PYTHONPATH``).
"""
from typing import TYPE_CHECKING

from spacy.language import Language

from .serialization import packaged_resource

if TYPE_CHECKING:  # the components' classes, for the return annotations only
    from .components.conditions import ConditionFinder
    from .components.context import RuleContext
    from .components.linker import Linker
    from .components.normalizer import UnitNormalizer
    from .components.quantities import QuantityFinder
    from .components.sections import SectionHeadings
    from .components.spans import RuleParts
    from .components.structure import CriteriaStructure
    from .components.variables import VariableMatcher


@Language.factory(
    "criteria_sections",
    default_config={"rules": None, "newline_pattern": None},
    assigns=["doc._.section_headings"],
)
def make_sections(nlp: Language, name: str, rules: str | None, newline_pattern: str | None) -> "SectionHeadings":
    """``rules``/``newline_pattern`` null: the packaged ``sections.json`` / ``DEFAULT_NEWLINE``."""
    from .components.sections import DEFAULT_NEWLINE, RULES_FILE, SectionHeadings

    path = rules or str(packaged_resource(RULES_FILE))
    return SectionHeadings(nlp, name, path, newline_pattern or DEFAULT_NEWLINE)


@Language.factory(
    "criteria_structure",
    default_config={"split_sentences": True},
    requires=["doc._.section_headings"],
    assigns=["doc._.criteria", "span._.criterion_id", "span._.criterion_parent", "span._.criterion_section", "token.is_sent_start"],
)
def make_structure(nlp: Language, name: str, split_sentences: bool) -> "CriteriaStructure":
    from .components.structure import CriteriaStructure

    return CriteriaStructure(nlp, name, split_sentences)


@Language.factory("criteria_quantities", assigns=["doc._.quantities", "span._.quantity"])
def make_quantities(nlp: Language, name: str) -> "QuantityFinder":
    from .components.quantities import QuantityFinder

    return QuantityFinder(nlp, name)


@Language.factory(
    "criteria_variables",
    default_config={"lexicon_path": None},
    assigns=["doc._.variable_mentions", "span._.variable_entry"],
)
def make_variables(nlp: Language, name: str, lexicon_path: str | None) -> "VariableMatcher":
    from .components.variables import VariableMatcher

    return VariableMatcher(nlp, name, lexicon_path)


@Language.factory(
    "criteria_linker",
    default_config={"model": None, "threshold": 0.5},
    requires=["doc._.criteria", "doc._.quantities", "doc._.variable_mentions"],
    assigns=["doc._.rules", "doc._.logic"],
)
def make_linker(nlp: Language, name: str, model: str | None, threshold: float) -> "Linker":
    from .components.linker import Linker

    return Linker(nlp, name, model, threshold)


@Language.factory(
    "criteria_conditions",
    default_config={"inherit": True},
    requires=["doc._.rules", "doc._.criteria"],
)
def make_conditions(nlp: Language, name: str, inherit: bool) -> "ConditionFinder":
    from .components.conditions import ConditionFinder

    return ConditionFinder(nlp, name, inherit)


@Language.factory("criteria_context", default_config={"rules": None}, requires=["doc._.rules"])
def make_context(nlp: Language, name: str, rules: str | None) -> "RuleContext":
    """``rules`` null: the packaged ``context_rules.json``; ``"default"``: medspaCy's English rules."""
    from .components.context import RULES_FILE, RuleContext

    return RuleContext(nlp, name, rules or str(packaged_resource(RULES_FILE)))


@Language.factory("criteria_normalizer", requires=["doc._.rules"])
def make_normalizer(nlp: Language, name: str) -> "UnitNormalizer":
    from .components.normalizer import UnitNormalizer

    return UnitNormalizer(nlp, name)


@Language.factory("criteria_spans", requires=["doc._.rules"])
def make_spans(nlp: Language, name: str) -> "RuleParts":
    from .components.spans import RuleParts

    return RuleParts(nlp, name)
