"""Russian morphology helpers over pymorphy3: tokens, parses, verbs behind verbal nouns, aspect.

Everything here is grammar, not vocabulary: a verbal noun is recognised by its derivational suffix
*and* the dictionary knowing the verb it comes from (``согласование`` ← ``согласовать``); the
perfective partner of an imperfective verb is found by the regular aspect-pair patterns
(``согласовывать`` → ``согласовать``, ``оформлять`` → ``оформить``, ``готовить`` → ``подготовить``)
and kept only when the dictionary says the candidate is a perfective verb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pymorphy3
from pymorphy3.analyzer import Parse

# Latin letters that look like Cyrillic ones: exports mix them up ("Cчет" with a Latin C).
_LOOKALIKES = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_TOKEN = re.compile(r"[A-Za-zА-Яа-яЁё0-9]+")
_CYR = re.compile(r"[а-яё]")


@cache
def morph() -> pymorphy3.MorphAnalyzer:
    """The one analyser (loading the dictionaries takes a moment, so it is made once)."""
    return pymorphy3.MorphAnalyzer()


@dataclass(frozen=True)
class Token:
    """One word of a name.

    Attributes:
        text: the word as written.
        word: lower-cased, ё kept, Latin look-alikes inside a Cyrillic word made Cyrillic.
        parses: pymorphy3 parses, most likely first.
    """

    text: str
    word: str
    parses: tuple[Parse, ...]

    @property
    def best(self) -> Parse:
        """The most likely parse."""
        return self.parses[0]

    def any(self, *grammemes: str, min_score: float = 0.1) -> Parse | None:
        """The first parse (score ≥ ``min_score``) that has all ``grammemes``."""
        for p in self.parses:
            if p.score >= min_score and all(g in p.tag for g in grammemes):
                return p
        return None


def tokenize(name: str) -> list[Token]:
    """The words of ``name`` with their parses."""
    out: list[Token] = []
    for m in _TOKEN.finditer(name):
        text = m.group(0)
        word = text.lower()
        if _CYR.search(word):
            word = word.translate(_LOOKALIKES)
        out.append(Token(text, word, tuple(morph().parse(word))))
    return out


def infinitive(word: str) -> Parse | None:
    """The dictionary's infinitive parse of ``word`` (None if it is not a known verb)."""
    if not morph().word_is_known(word):
        return None
    for p in morph().parse(word):
        if p.tag.POS == "INFN" and p.normal_form == word:
            return p
    return None


def _de_epenthesis(stem: str) -> list[str]:
    """Undo the consonant alternations of -ение nouns (выставл-ение → выстав-ить, обсужд → обсуд)."""
    out = [stem]
    if len(stem) > 2 and stem[-1] == "л" and stem[-2] in "вбпмф":
        out.append(stem[:-1])
    if stem.endswith("жд"):
        out.append(stem[:-2] + "д")
    if stem.endswith("щ"):
        out += [stem[:-1] + "т", stem[:-1] + "ст"]
    if stem.endswith("ч"):
        out.append(stem[:-1] + "т")
    if stem.endswith("ж"):
        out += [stem[:-1] + "д", stem[:-1] + "з"]
    return out


def verb_of_noun(noun: Parse) -> Parse | None:
    """The verb a noun is derived from, when its suffix is a verbal-noun suffix and the
    dictionary knows the verb; else None.

    Suffixes: -ание/-яние (согласование ← согласовать), -ение (оформление ← оформить),
    -тие (принятие ← принять), -ка (подготовка ← подготовить), -ация/-икация
    (демонстрация ← демонстрировать, квалификация ← квалифицировать), -ство (производство ←
    производить), loan nouns with an -ировать verb (анализ ← анализировать, монтаж ←
    монтировать), and plural-only nouns (переговоры ← переговорить).
    """
    lemma = noun.normal_form
    cands: list[str] = []
    if lemma.endswith(("ание", "яние")):
        cands.append(lemma[:-3] + "ть")
    elif lemma.endswith("ение"):
        stems = _de_epenthesis(lemma[:-4])
        # perfective -ить first: обсуждение ← обсудить, not the imperfective обсуждать
        cands += (
            [s + "ить" for s in stems] + [s + "еть" for s in stems] + [s + "ать" for s in stems]
        )
    elif lemma.endswith("тие"):
        cands.append(lemma[:-3] + "ть")
    elif lemma.endswith("ка") and len(lemma) > 5:
        stem = lemma[:-2]
        cands += [stem + "ить", stem + "ать", stem + "ять"]
    elif lemma.endswith("икация"):
        cands.append(lemma[:-6] + "ицировать")
    elif lemma.endswith("ация"):
        cands += [lemma[:-4] + "ировать", lemma[:-4] + "овать"]
    elif lemma.endswith("ство"):
        cands += [lemma[:-4] + "ить", lemma[:-4] + "ать", lemma[:-4] + "овать"]
    elif "Pltm" in noun.tag and lemma.endswith(("ы", "и")):
        cands += [lemma[:-1] + "ить", lemma[:-1] + "ать"]
    elif noun.tag.gender == "masc" and len(lemma) > 4:
        cands.append(lemma + "ировать")
        if lemma.endswith("аж"):
            cands.append(lemma[:-2] + "ировать")
    for c in cands:
        p = infinitive(c)
        if p is not None:
            return p
    return None


_PREFIXES = ("под", "по", "про", "с", "на", "за", "о", "вы", "от", "пере")


def perfective(verb: Parse) -> Parse | None:
    """The perfective partner of an infinitive (itself when already perfective), or None.

    Regular aspect pairs only: -ывать/-ивать → -ать/-ить/-еть (with the а→о root alternation:
    рассматривать → рассмотреть), -ять → -ить (оформлять → оформить), -имать → -ять
    (принимать → принять), -ать → -ить (решать → решить), or a prefix (готовить → подготовить).
    Reflexive verbs keep their -ся.
    """
    if "perf" in verb.tag:
        return verb
    word = verb.normal_form
    refl = word.endswith(("ся", "сь"))
    base = word[:-2] if refl else word
    cands: list[str] = []
    for suffix in ("ывать", "ивать"):
        if base.endswith(suffix):
            stem = base[: -len(suffix)]
            stems = [stem]
            i = stem.rfind("а")
            if i > 0:
                stems.append(stem[:i] + "о" + stem[i + 1 :])
            for s in stems:
                cands += [s + "ать", s + "ить", s + "еть", s + "ять"]
    if base.endswith("имать"):
        cands.append(base[:-5] + "ять")
    if base.endswith("ять"):
        cands += [s + "ить" for s in _de_epenthesis(base[:-3])]
    if base.endswith("ать"):
        cands.append(base[:-3] + "ить")
    cands += [p + base for p in _PREFIXES]
    for c in cands:
        p = infinitive(c + ("ся" if refl else ""))
        if p is not None and "perf" in p.tag:
            return p
    return None


def result_form(verb: Parse, gender: str | None, number: str) -> str | None:
    """The short passive participle of a perfective verb agreeing with ``gender``/``number``
    (``договор`` → ``согласован``, ``документы`` → ``подготовлены``); for an intransitive verb,
    its past tense in the plural (``связались``); None when neither form exists."""
    if number == "plur":
        p = verb.inflect({"PRTS", "plur"})
    else:
        p = verb.inflect({"PRTS", gender or "neut", "sing"})
    if p is not None and "pssv" in p.tag:
        return str(p.word)
    if "intr" in verb.tag:
        q = verb.inflect({"VERB", "past", "plur"})
        return str(q.word) if q is not None else None
    return None


def agreement(noun: Parse) -> tuple[str | None, str]:
    """(gender, number) a predicate must agree with for this noun in the nominative.

    Indeclinable abbreviations (``КП``) read as neuter singular: the usual agreement for
    abbreviated phrases whose head is unknown.
    """
    if "Pltm" in noun.tag or noun.tag.number == "plur":
        return None, "plur"
    if "Fixd" in noun.tag or "Abbr" in noun.tag:
        return "neut", "sing"
    return noun.tag.gender, "sing"


def nominative(token: Token, number: str | None = None) -> tuple[str, Parse | None]:
    """The word in the nominative (number kept unless ``number`` given) and its parse."""
    p = token.best
    if "Fixd" in p.tag or "Abbr" in p.tag or p.tag.POS is None:
        return token.text, p
    want = {"nomn", number or (p.tag.number or "sing")}
    q = p.inflect(want) or p.inflect({"nomn"})
    if q is None:
        return token.word, p
    return str(q.word), q
