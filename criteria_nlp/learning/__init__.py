"""The learned part of the linker: features of candidate thresholds for a scikit-learn model.

``criteria_nlp.learning.features.unit_features`` turns one candidate threshold (a ``Quantity``
and the variable(s) the rule-based linker attached to it) into a flat dict of string, bool and
float features, the input of the ``DictVectorizer`` that starts the model pipeline stored in
``criteria_nlp/resources/linker.skops``. Training lives in ``scripts/train_linker.py``; loading (and the trust
check) in ``criteria_nlp.learned``; the model card in ``models/README.md``.
"""
