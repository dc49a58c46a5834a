"""Which language a CV is written in, so a verdict on a non-English CV says it is less sure.

all-MiniLM-L6-v2 and the classifier were trained on English text: a French or Chinese CV
still gets an answer (refusing it would be worse for the candidate), but the recruiter is told
the model reads English best. py3langid (langid.py's model, bundled in the wheel, no network)
is deterministic; on the 2,462 English CVs of ../shared/data/resumes it named one CV
non-English, and that CV was in Spanish.
"""

from __future__ import annotations

from functools import lru_cache

MIN_CHARS = 80  # shorter text: too little to tell (a Chinese CV is dense)
MIN_CONFIDENCE = 0.9
SAMPLE_CHARS = 4000  # the opening is enough, and keeps a long CV cheap

NAMES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
         "nl": "Dutch", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ru": "Russian",
         "ar": "Arabic", "fa": "Persian", "hi": "Hindi", "tr": "Turkish", "pl": "Polish",
         "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "el": "Greek",
         "he": "Hebrew", "uk": "Ukrainian", "vi": "Vietnamese", "id": "Indonesian",
         "th": "Thai", "cs": "Czech", "ro": "Romanian", "hu": "Hungarian"}


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def non_english(text: str) -> str | None:
    """The language's name when ``text`` is confidently not English, else None."""
    sample = text[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_CHARS:
        return None
    lang, confidence = _identifier().classify(sample)
    letters = [ch for ch in sample if ch.isalpha()]
    latin = sum(ch.isascii() for ch in letters) / max(1, len(letters))
    # a CV in another script that names its tools in English (Python, AWS) scores lower
    needed = MIN_CONFIDENCE if latin >= 0.6 else 0.5
    if lang == "en" or float(confidence) < needed:
        return None
    return NAMES.get(lang, lang)


def language_note(text: str) -> str | None:
    language = non_english(text)
    if language is None:
        return None
    return (f"This CV looks {language}: the model reads English best, so this verdict is less "
            "certain than usual; a person should read the CV.")
