"""The learned part of the linker, in one place.

- ``criteria_nlp.learning.features.unit_features`` turns one candidate threshold (a ``Quantity``
  and the variable(s) the rule-based linker attached to it) into a flat dict of string, bool and
  float features, the input of the ``DictVectorizer`` that starts the model pipeline stored in
  ``criteria_nlp/resources/linker.skops``;
- ``criteria_nlp.learning.model`` finds and loads that model (the trust check, and the
  ``LinearFilter`` read from ``linker.weights.json``).

Training lives in ``scripts/train_linker.py``; the model card in ``models/README.md``.
"""
