"""``criteria_context``: negation and hypothetical status of each rule via medspaCy ConText.

Wraps ``medspacy.context.ConText`` (default English rules) over the rule spans of
``doc.spans["criteria_rules"]`` and copies ``is_negated`` / ``is_hypothetical`` onto the rules.
ConText scopes modifiers by sentence: ``criteria_structure`` sets sentence starts cheaply, so
PyRuSH (slow, DEBUG-logging) is not needed.
"""
from medspacy.context import ConText
from spacy.language import Language
from spacy.tokens import Doc

from .linker import RULE_SPAN_GROUP


class RuleContext:
    def __init__(self, nlp: Language, name: str, rules: str | None):
        self.name = name
        self.context = ConText(
            nlp, name=f"{name}_medspacy", rules=rules or "default",
            input_span_type="group", span_group_name=RULE_SPAN_GROUP,
        )

    def __call__(self, doc: Doc) -> Doc:
        spans = doc.spans[RULE_SPAN_GROUP] if RULE_SPAN_GROUP in doc.spans else []
        if not len(spans):
            return doc
        self.context(doc)
        for span in spans:
            ext = span._  # one Underscore per span, not one per attribute
            rule = ext.rule
            if rule is not None:
                rule.negated = bool(ext.is_negated)
                rule.hypothetical = bool(ext.is_hypothetical)
        return doc


@Language.factory("criteria_context", default_config={"rules": None}, requires=["doc._.rules"])
def make_context(nlp: Language, name: str, rules: str | None) -> RuleContext:
    return RuleContext(nlp, name, rules)
