"""The tokenizer guard's fast long-run check agrees with its regex."""
import random

from criteria_nlp.tokenizer import _LONG_RUN, MAX_RUN, _has_long_run


def test_has_long_run_agrees_with_regex():
    rng = random.Random(3)
    spaces = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2003", "\u3000"]
    texts = ["", " ", "x" * MAX_RUN, "x" * (MAX_RUN + 1), " " + "(" * (MAX_RUN + 1) + " ", "\u200b" * 100]
    for _ in range(2000):
        texts.append("".join(rng.choice(spaces) if rng.random() < 0.05 else rng.choice("ab(<9.\u200b")
                             for _ in range(rng.randint(0, 300))))
    for text in texts:
        assert _has_long_run(text) == bool(_LONG_RUN.search(text)), repr(text[:80])
