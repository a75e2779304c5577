"""Quantity helpers: unit recognition (surface text -> UCUM), unit matching and conversion.

See :mod:`criteria_nlp.quantities.units`.
"""
