"""Data resources of criteria-nlp (variable lexicon, ...) and their typed loaders."""
