#!/usr/bin/env python3
"""Regenerates knowledge/common_words.txt from wordfreq (pip install wordfreq==3.1.1)."""
import re

import wordfreq

words = [w for w in wordfreq.top_n_list("en", 60000) if re.fullmatch(r"[a-z]+", w)][:30000]
with open("knowledge/common_words.txt", "w", encoding="utf-8") as out:
    out.write(
        "# The 30,000 most frequent English words (letters only), most frequent first.\n"
        '# From wordfreq 3.1.1 (Robyn Speer; data CC BY-SA 4.0), top_n_list("en").\n'
        "# The analyzer never treats one of these as a typo of a catalogue term.\n"
        "# Regenerate with scripts/common_words.py.\n"
    )
    out.write("\n".join(words) + "\n")
