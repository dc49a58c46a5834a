"""The CV occupational classifier: stacked TF-IDF and MiniLM features into one linear SVM.

Why this recipe (measured with ``hirebot eval classifier``; see the model card):

* MiniLM sees only the first 256 tokens; TF-IDF over words and character n-grams sees the whole
  CV. Together they beat either alone by 8-10 accuracy points on livecareer.
* A CV's first line is usually its headline ("STAFF ACCOUNTANT"): it gets its own embedding and
  its own small TF-IDF block.
* A category whose name (or alias) occurs in the CV gets a small additive prior on its own score
  only ("diagonal"): classes with a handful of examples get a hint from their names. As free
  features instead, the SVM learned cross-class weights that misfired on real-world CVs (a
  software engineer's CV mentioning "Python" and "engineering" scored as Agriculture).
* The original recipe's ``SVC(gamma="auto")`` is flat on normalised 384-d embeddings (gamma=1/384)
  and collapses to the majority class; a linear SVM on the stacked blocks does not.

Scores are turned into probabilities with a single softmax temperature fitted on out-of-fold
decisions, which keeps the ranking of the SVM and is trivially persisted.

Persistence is arrays in safetensors plus JSON (vocabularies, parameters): nothing is unpickled,
so a model folder from a user-writable path cannot execute code.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.svm import LinearSVC

from models.screening.head import RefreshHead, head_features, softmax
from models.screening.taxonomy import category_phrases

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
HEADLINE_MAX_WORDS = 12


@dataclass(frozen=True)
class Recipe:
    """Block weights and sizes; the defaults are the measured best on livecareer."""

    word_max_features: int = 50_000
    char_max_features: int = 50_000
    w_word: float = 1.0
    w_char: float = 1.0
    w_head_tfidf: float = 0.5
    w_body_emb: float = 1.0
    w_head_emb: float = 0.5
    label_match_prior: float = 0.25
    C: float = 0.5
    seed: int = 0


_CONTACT_LINE = re.compile(r"@|https?://|www\.|\d{3}|\|")
_SECTION_WORDS = {
    "summary", "profile", "objective", "experience", "education", "skills", "contact",
    "resume", "curriculum", "vitae", "cv", "information", "details", "highlights",
}


def learn_title_words(texts: Sequence[str], min_count: int = 2) -> list[str]:
    """Words that open several CVs' first lines: the vocabulary of job titles.

    livecareer CVs open with the job title, real CVs usually with the candidate's name; knowing
    which words make up titles lets :func:`headline_of` tell the two apart.
    """
    counts: dict[str, int] = {}
    for text in texts:
        first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
        words = first.split()
        if not 1 <= len(words) <= 8 or _CONTACT_LINE.search(first):
            continue
        for word in {w.lower().strip(".,:;()") for w in words}:
            if (
                word.isalpha()
                and len(word) > 1
                and word not in _SECTION_WORDS
                and word not in ENGLISH_STOP_WORDS
            ):
                counts[word] = counts.get(word, 0) + 1
    return sorted(w for w, n in counts.items() if n >= min_count)


def headline_of(text: str, title_words: frozenset[str] | set[str] = frozenset()) -> str:
    """The CV's job-title line, or "" when its opening lines hold none.

    Looks at the first four non-empty lines, skipping contact lines, section headings, long
    sentences and lines without any title word (a name such as "Ebony Moore"), so a name is
    never mistaken for the candidate's occupation. With no ``title_words`` the first line is
    taken as is.
    """
    seen = 0
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        seen += 1
        if seen > 4:
            break
        if not title_words:
            return " ".join(line.split()[:HEADLINE_MAX_WORDS])
        words = [w.lower().strip(".,:;()") for w in line.split()]
        if len(words) > 10 or _CONTACT_LINE.search(line):
            continue
        if set(words) <= _SECTION_WORDS:
            continue
        if any(w in title_words for w in words):
            return " ".join(line.split()[:HEADLINE_MAX_WORDS])
    return ""


@dataclass
class EncodedCVs:
    """What the classifier needs of a batch of CVs; embeddings are computed once and reused."""

    texts: list[str]
    headlines: list[str]
    body_emb: np.ndarray
    head_emb: np.ndarray

    def subset(self, idx: Sequence[int] | np.ndarray) -> EncodedCVs:
        idx = np.asarray(idx)
        return EncodedCVs(
            [self.texts[i] for i in idx],
            [self.headlines[i] for i in idx],
            self.body_emb[idx],
            self.head_emb[idx],
        )


def encode_cvs(
    texts: Sequence[str],
    embedder,
    *,
    title_words: Sequence[str] = (),
    progress: bool = False,
) -> EncodedCVs:
    vocab = frozenset(title_words)
    headlines = [headline_of(t, vocab) for t in texts]
    body = embedder.encode(list(texts), progress=progress)
    head = embedder.encode(headlines)
    return EncodedCVs(list(texts), headlines, body, head)


_NON_WORD = re.compile(r"[^a-z0-9+#.]+")


def _normalise_for_match(text: str) -> str:
    return " " + _NON_WORD.sub(" ", text.lower()) + " "


def label_match_features(texts: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """How often each category's name or alias occurs in the text (capped at 5, scaled to 1)."""
    phrases = [
        [" " + _NON_WORD.sub(" ", p.lower()).strip() + " " for p in category_phrases(c)]
        for c in classes
    ]
    out = np.zeros((len(texts), len(classes)), dtype=np.float32)
    for i, text in enumerate(texts):
        norm = _normalise_for_match(text)
        for j, plist in enumerate(phrases):
            out[i, j] = min(max(norm.count(p) for p in plist), 5) / 5.0
    return out


def _word_vectorizer(max_features: int, vocabulary=None) -> TfidfVectorizer:
    return TfidfVectorizer(
        sublinear_tf=True,
        ngram_range=(1, 2),
        min_df=2,
        max_features=max_features,
        stop_words="english",
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _char_vectorizer(max_features: int, vocabulary=None) -> TfidfVectorizer:
    return TfidfVectorizer(
        sublinear_tf=True,
        analyzer="char_wb",
        ngram_range=(3, 5),
        min_df=2,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _head_vectorizer(vocabulary=None) -> TfidfVectorizer:
    return TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), vocabulary=vocabulary, dtype=np.float32
    )


class CVClassifier:
    """Category classifier over :class:`EncodedCVs`; see the module docstring for the recipe."""

    def __init__(self, recipe: Recipe | None = None) -> None:
        self.recipe = recipe or Recipe()
        self.classes: list[str] = []
        self.title_words: list[str] = []
        self.temperature: float = 1.0
        self.embedding_dim: int = 0
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self._word: TfidfVectorizer | None = None
        self._char: TfidfVectorizer | None = None
        self._head: TfidfVectorizer | None = None
        self.metadata: dict = {}
        #: A refresh's stacked head (models.screening.head); None for a trained-here SVM.
        self.refresh_head = None

    # ----------------------------------------------------------------------------- features
    def _features(self, enc: EncodedCVs):
        r = self.recipe
        assert self._word and self._char and self._head
        blocks = [
            self._word.transform(enc.texts) * r.w_word,
            self._char.transform(enc.texts) * r.w_char,
            self._head.transform(enc.headlines) * r.w_head_tfidf,
            csr_matrix(enc.body_emb * r.w_body_emb),
            csr_matrix(enc.head_emb * r.w_head_emb),
        ]
        return hstack(blocks, format="csr", dtype=np.float32)

    # ----------------------------------------------------------------------------- training
    def fit(
        self,
        enc: EncodedCVs,
        labels: Sequence[str],
        *,
        title_words: Sequence[str] = (),
    ) -> CVClassifier:
        """Fit on CVs encoded with ``title_words`` (kept, so serving picks headlines alike)."""
        r = self.recipe
        self.title_words = list(title_words)
        self.classes = sorted(set(labels))
        self.embedding_dim = int(enc.body_emb.shape[1])
        self._word = _word_vectorizer(r.word_max_features).fit(enc.texts)
        self._char = _char_vectorizer(r.char_max_features).fit(enc.texts)
        self._head = _head_vectorizer().fit(enc.headlines)
        svm = LinearSVC(C=r.C, class_weight="balanced", random_state=r.seed)
        svm.fit(self._features(enc), np.asarray(labels))
        coef = svm.coef_.astype(np.float32)
        intercept = svm.intercept_.astype(np.float32)
        if len(self.classes) == 2:  # binary LinearSVC has one row; make it two-sided
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32)
        self.coef, self.intercept = coef, intercept
        return self

    def fit_temperature(self, decisions: np.ndarray, labels: Sequence[str]) -> float:
        """Pick the softmax temperature that minimises log-loss on out-of-fold decisions."""
        index = {c: i for i, c in enumerate(self.classes)}
        y = np.array([index[label] for label in labels])
        best_t, best_nll = 1.0, np.inf
        for t in np.exp(np.linspace(np.log(0.02), np.log(5.0), 200)):
            p = softmax(decisions / t)
            nll = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
            if nll < best_nll:
                best_t, best_nll = float(t), float(nll)
        self.temperature = best_t
        return best_t

    # ----------------------------------------------------------------------------- inference
    def decision_function(self, enc: EncodedCVs) -> np.ndarray:
        assert self.coef is not None and self.intercept is not None
        x = self._features(enc)
        prior = label_match_features(enc.texts, self.classes) * self.recipe.label_match_prior
        return np.asarray(x @ self.coef.T) + self.intercept + prior

    def proba_and_features(self, enc: EncodedCVs) -> tuple[np.ndarray, np.ndarray]:
        """Category probabilities, and the derived features a team label of the CV keeps.

        The features are those of a refresh's stacked head: with one, the head gives the
        probabilities; without, the SVM's tempered softmax does.
        """
        decisions = self.decision_function(enc)
        x = head_features(decisions, self.temperature, enc.body_emb, enc.head_emb)
        if self.refresh_head is not None:
            return self.refresh_head.predict_proba(x), x
        return softmax(decisions / self.temperature), x

    def predict_proba(self, enc: EncodedCVs) -> np.ndarray:
        return self.proba_and_features(enc)[0]

    def predict(self, enc: EncodedCVs) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(enc).argmax(1)]

    # ----------------------------------------------------------------------------- persistence
    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        assert self._word and self._char and self._head
        arrays = {
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
            "idf_word": self._word.idf_.astype(np.float32),
            "idf_char": self._char.idf_.astype(np.float32),
            "idf_head": self._head.idf_.astype(np.float32),
        }
        # safetensors writes the raw buffer: a Fortran-ordered array (LinearSVC's coef_) would
        # come back transposed-scrambled, so force C order.
        save_file(
            {k: np.ascontiguousarray(v) for k, v in arrays.items()},
            str(folder / "head.safetensors"),
        )
        vocab = {
            "word": _ordered_vocab(self._word),
            "char": _ordered_vocab(self._char),
            "head": _ordered_vocab(self._head),
        }
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        config = {
            "format_version": FORMAT_VERSION,
            "classes": self.classes,
            "title_words": self.title_words,
            "embedding_dim": self.embedding_dim,
            "temperature": self.temperature,
            "recipe": self.recipe.__dict__,
            "metadata": self.metadata,
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> CVClassifier:
        from safetensors.numpy import load_file

        config = json.loads((folder / "config.json").read_text())
        if config.get("format_version") != FORMAT_VERSION:
            found = config.get("format_version")
            raise ValueError(f"{folder}: unsupported classifier format {found}")
        self = cls(Recipe(**config["recipe"]))
        self.classes = list(config["classes"])
        self.title_words = list(config.get("title_words", []))
        self.temperature = float(config["temperature"])
        self.metadata = config.get("metadata", {})
        arrays = load_file(str(folder / "head.safetensors"))
        self.coef = arrays["coef"].astype(np.float32)
        self.intercept = arrays["intercept"]
        self.embedding_dim = int(config["embedding_dim"])
        vocab = json.loads((folder / "vocab.json").read_text())
        self._word = _restore(_word_vectorizer(0, _as_index(vocab["word"])), arrays["idf_word"])
        self._char = _restore(_char_vectorizer(0, _as_index(vocab["char"])), arrays["idf_char"])
        self._head = _restore(_head_vectorizer(_as_index(vocab["head"])), arrays["idf_head"])
        self.refresh_head = RefreshHead.load(folder)
        if self.refresh_head is not None and self.refresh_head.classes != self.classes:
            raise ValueError(f"{folder}: the refreshed head's categories differ from the SVM's")
        return self


def _ordered_vocab(vec: TfidfVectorizer) -> list[str]:
    terms = [""] * len(vec.vocabulary_)
    for term, i in vec.vocabulary_.items():
        terms[i] = term
    return terms


def _as_index(terms: list[str]) -> dict[str, int]:
    return {t: i for i, t in enumerate(terms)}


def _restore(vec: TfidfVectorizer, idf: np.ndarray) -> TfidfVectorizer:
    vec.max_features = None
    vec.min_df = 1
    vec.idf_ = idf
    return vec
