"""The reviewer view: static, self-contained HTML pages of extraction results and evaluation errors.

* :mod:`.spans` -- pure functions: which character ranges of a text to highlight, and the
  escaped HTML of a text with those ranges marked;
* :mod:`.studies` -- what to show: results read from files or extracted from inputs, each with
  the text its offsets index;
* :mod:`.render` -- study pages (criteria text, rule table, warnings) from the package templates;
* :mod:`.evaluation` -- the ``evaluate --html`` report (misses and false positives in context);
* :mod:`.command` -- ``criteria-nlp view``.
"""
