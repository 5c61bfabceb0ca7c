"""Judging an English stage name by grammar rules, and building a result-style rename.

English has no morphological analyser in the dependencies, so the rules read word forms: a past
participle (``-ed`` or an irregular one: ``sent``, ``made``, ``won``) states a result; ``-ing``
forms, state phrases (``pending``, ``awaiting``, ``in progress``, ``on hold``, ``under review``,
``in negotiation``), a base verb leading the name (a task: ``Send proposal``) and activity nouns
(``-tion``, ``-sion``, ``-sis``, ``-ment`` and a few without a suffix: ``review``, ``discovery``)
are processes. Rules, in order:

1. a state phrase → **process**;
2. a past participle → **result**;
3. an entry word (``new``, ``incoming``, ``inbound``) → **result**;
4. an ``-ing`` form → **process**;
5. a base verb first → **process** (a task);
6. an activity noun → **process**;
7. a bare entry noun (``Lead``) → **result**; else **unclear**.
"""

from __future__ import annotations

import re

from voronka.lang.verdict import NameVerdict

IRREGULAR_PARTICIPLES = {
    "make": "made",
    "send": "sent",
    "win": "won",
    "lose": "lost",
    "hold": "held",
    "do": "done",
    "pay": "paid",
    "buy": "bought",
    "get": "got",
    "give": "given",
    "take": "taken",
    "meet": "met",
    "write": "written",
    "choose": "chosen",
    "begin": "begun",
    "show": "shown",
    "see": "seen",
    "know": "known",
    "find": "found",
    "keep": "kept",
    "bring": "brought",
    "think": "thought",
    "set": "set",
    "put": "put",
    "sell": "sold",
    "tell": "told",
    "build": "built",
    "spend": "spent",
    "leave": "left",
    "go": "gone",
    "run": "run",
    "ship": "shipped",
    "plan": "planned",
    "submit": "submitted",
    "commit": "committed",
    "stop": "stopped",
    "drop": "dropped",
    "chat": "chatted",
}
"""Past participles that the ``-ed`` rule does not build (and doubled consonants)."""

_PARTICIPLE_WORDS = frozenset(IRREGULAR_PARTICIPLES.values()) | {"done", "complete", "ready"}
_ED_NOT_PARTICIPLE = frozenset({"need", "seed", "feed", "speed", "breed", "hundred", "embed"})
_ING_NOUNS = frozenset(
    {
        "meeting",
        "thing",
        "morning",
        "evening",
        "building",
        "string",
        "spring",
        "ceiling",
        "wedding",
        "something",
        "nothing",
        "anything",
        "everything",
        "marketing",
    }
)
"""``-ing`` words that name a thing, not an ongoing activity."""

TASK_VERBS = frozenset(
    {
        "call",
        "send",
        "schedule",
        "identify",
        "follow",
        "qualify",
        "negotiate",
        "prepare",
        "review",
        "sign",
        "book",
        "confirm",
        "get",
        "make",
        "discuss",
        "present",
        "check",
        "verify",
        "collect",
        "reach",
        "meet",
        "ship",
        "deliver",
        "onboard",
        "find",
        "ask",
        "chase",
        "remind",
        "update",
        "submit",
        "approve",
        "evaluate",
        "consider",
        "decide",
        "arrange",
        "organise",
        "organize",
        "draft",
        "email",
        "contact",
        "research",
    }
)
"""Verbs that, leading a name in their base form, make it a to-do rather than a result."""

ACTIVITY_NOUNS = frozenset(
    {
        "review",
        "discovery",
        "research",
        "outreach",
        "trial",
        "consultancy",
        "audit",
        "diligence",
        "follow",
        "work",
    }
)
"""Activity nouns without an activity suffix."""

CONCRETE_MENT = frozenset(
    {
        "payment",
        "agreement",
        "document",
        "statement",
        "department",
        "equipment",
        "shipment",
        "instrument",
        "segment",
        "comment",
    }
)
"""``-ment`` nouns that name a thing or a sum, not an activity."""

ENTRY_WORDS = frozenset({"new", "incoming", "inbound", "unsorted", "inbox"})
ENTRY_NOUNS = frozenset({"lead", "leads", "request", "requests", "inquiry", "enquiry"})
STATE_WORDS = frozenset({"pending", "awaiting", "waiting"})
STATE_PHRASES = (("in", "progress"), ("in", "process"), ("on", "hold"))
DECIDE_VERBS = frozenset({"think", "consider", "decide", "deliberate", "evaluate"})
"""Deliberation: its result is a decision (``Considering`` → ``Decision made``)."""
PERSON_NOUNS = frozenset({"client", "customer", "buyer", "prospect", "lead", "them", "contact"})
_PARTICLES = frozenset({"up", "back", "over", "out", "in", "it", "off"})
_FILLERS = frozenset({"for", "on", "from", "to", "the", "a", "of"})
_ADJECTIVE_ENDINGS = ("al", "ic", "ive", "ous", "ary", "ial")

_PAREN = re.compile(r"\([^)]*\)")
_PREFIX = re.compile(r"^[A-Za-z]_(?=[A-Za-z])")
_WORD = re.compile(r"[a-z]+")


def words_of(name: str) -> list[str]:
    """Lower-case words, without parentheses and a one-letter code prefix (``A_ACCEPTED``);
    ``Id.`` leading a name is read as ``identify``."""
    text = _PREFIX.sub("", _PAREN.sub(" ", name)).lower()
    words = _WORD.findall(text.replace("_", " "))
    if words and words[0] == "id" and re.match(r"\s*id\.", text):
        words[0] = "identify"
    return words


def is_participle(word: str) -> bool:
    """A past participle: irregular, or a regular ``-ed`` form."""
    if word in _PARTICIPLE_WORDS:
        return True
    return len(word) >= 5 and word.endswith("ed") and word not in _ED_NOT_PARTICIPLE


def is_ing(word: str) -> bool:
    """An ``-ing`` form of a verb (not ``meeting``, ``morning`` …)."""
    return len(word) >= 5 and word.endswith("ing") and word not in _ING_NOUNS


def is_activity_noun(word: str) -> bool:
    """A noun naming an activity: ``-tion``/``-sion``/``-sis``/``-ment`` or a suffixless one."""
    if word in ACTIVITY_NOUNS:
        return True
    if word.endswith(("tion", "sion", "sis")) and len(word) > 5:
        return True
    return word.endswith("ment") and len(word) > 6 and word not in CONCRETE_MENT


def verb_of(word: str) -> str:
    """The base verb behind an activity noun or ``-ing`` form (best effort, rules only)."""
    if word.endswith("ing"):
        stem = word[:-3]
        if stem.endswith(("g", "v", "c", "z", "at", "ar", "ur", "os", "as", "is")):
            return stem + "e"
        return stem
    if word.endswith("ification"):
        return word[: -len("ification")] + "ify"
    if word.endswith("ysis"):
        return word[:-4] + "yze"
    if word.endswith("cision"):
        return word[:-6] + "cide"
    if word.endswith("sition"):
        return word[:-6] + "se"
    if word.endswith("uction"):
        return word[:-6] + "uce"
    if word.endswith("ation"):
        stem = word[:-5]
        if stem.endswith(("nt", "rm", "rt", "ct", "pt", "er", "ir")):
            return stem  # presentation ← present, consideration ← consider
        if len(stem) > 2 and stem[-1] == "r" and stem[-2] in "aeiou":
            return stem + "e"  # preparation ← prepare
        return stem + "ate"  # negotiation ← negotiate
    if word.endswith(("tion", "sion")):
        return word[:-3]
    if word.endswith(("oval", "osal")):
        return word[:-2] + "e"
    if word.endswith("ature"):
        return word[:-5]
    if word.endswith("ment"):
        return word[:-4]
    return word


def participle(verb: str) -> str:
    """The past participle of a base verb (``send`` → ``sent``, ``qualify`` → ``qualified``)."""
    if verb in IRREGULAR_PARTICIPLES:
        return IRREGULAR_PARTICIPLES[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and len(verb) > 2 and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def _looks_adjective(word: str) -> bool:
    """``legal``, ``technical``, ``final``: a modifier that is not an object (``proposal`` is)."""
    return word.endswith(_ADJECTIVE_ENDINGS) and not word.endswith(("osal", "oval"))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _semantic_result(verb: str) -> str | None:
    """Results whose grammar does not follow from the verb: negotiating ends in agreed terms,
    deliberating in a decision, proposing in a proposal sent."""
    if verb.startswith("negotiat"):
        return "Terms agreed"
    if verb in DECIDE_VERBS:
        return "Decision made"
    if verb.startswith("propos"):
        return "Proposal sent"
    return None


def _done(verb: str, obj: list[str], tail: list[str] | None = None) -> str | None:
    """``<object> <participle> <particles>`` or the participle alone."""
    special = _semantic_result(verb)
    if special:
        return special
    if verb == "work":
        return None
    words = [w for w in obj if w not in _FILLERS and w not in _PARTICLES]
    parts = [*words, participle(verb), *[w for w in tail or () if w in _PARTICLES and w != "it"]]
    return _cap(" ".join(parts))


def _rename_state(words: list[str], state_at: int, span: int) -> str | None:
    rest = [w for w in words[:state_at] + words[state_at + span :] if w not in _FILLERS]
    if not rest:
        return None
    if words[state_at] in ("in", "on") and words[state_at + 1] in ("progress", "process", "hold"):
        return _cap(" ".join(rest) + " completed")
    last = rest[-1]
    if is_activity_noun(last) or last.endswith(("oval", "osal", "ature")):
        return _done(verb_of(last), rest[:-1])
    if last in PERSON_NOUNS:
        return "Response received"
    return _cap(" ".join(rest) + " received")


def judge_en(name: str, *, entry: bool = False) -> NameVerdict:
    """Judge an English stage name (see the module docstring for the rules)."""
    words = words_of(name)
    if not words:
        return NameVerdict(name, "en", "unclear", "lang.reason.empty")

    # 1. state phrases
    for i, w in enumerate(words):
        pair = tuple(words[i : i + 2])
        if pair in STATE_PHRASES or w in STATE_WORDS:
            span = 2 if pair in STATE_PHRASES else 1
            return NameVerdict(
                name,
                "en",
                "process",
                "lang.reason.process_state",
                {"phrase": " ".join(words[i : i + span])},
                _rename_state(words, i, span),
            )
        if w in ("under", "in") and i + 1 < len(words) and is_activity_noun(words[i + 1]):
            return NameVerdict(
                name,
                "en",
                "process",
                "lang.reason.process_state",
                {"phrase": " ".join(words[i : i + 2])},
                _done(verb_of(words[i + 1]), words[:i] + words[i + 2 :]),
            )
    # 2. past participles
    for w in words:
        if is_participle(w):
            return NameVerdict(name, "en", "result", "lang.reason.result_form", {"word": w})
    # 3. entry words
    for w in words:
        if w in ENTRY_WORDS:
            return NameVerdict(name, "en", "result", "lang.reason.entry", {"word": w})
    # 4. -ing forms
    for i, w in enumerate(words):
        if is_ing(w):
            return NameVerdict(
                name,
                "en",
                "process",
                "lang.reason.process_verb",
                {"word": w},
                _done(verb_of(w), words[i + 1 :], words[i + 1 :]),
            )
    # 5. a task: a base verb first
    if words[0] in TASK_VERBS and (len(words) > 1 or words[0] not in ACTIVITY_NOUNS):
        return NameVerdict(
            name,
            "en",
            "process",
            "lang.reason.task_verb",
            {"word": words[0]},
            _done(words[0], words[1:], words[1:]),
        )
    # 6. activity nouns (the last one is the head: "Perception Analysis" is an analysis)
    for i in reversed(range(len(words))):
        w = words[i]
        if is_activity_noun(w):
            before = words[:i]
            verb = verb_of(w)
            special = _semantic_result(verb)
            underived = verb == w and w not in TASK_VERBS
            if special is None and (underived or not before or _looks_adjective(before[-1])):
                suggestion: str | None = _cap(" ".join([*before, w, "completed"]))
            else:
                suggestion = _done(verb, before)
            return NameVerdict(
                name,
                "en",
                "process",
                "lang.reason.process_noun",
                {"word": w, "verb": verb},
                suggestion,
            )
    # 7. a bare entry noun, the first stage, or nothing to go on
    if len(words) == 1 and words[0] in ENTRY_NOUNS:
        return NameVerdict(name, "en", "result", "lang.reason.entry", {"word": words[0]})
    if entry:
        return NameVerdict(name, "en", "result", "lang.reason.entry_position", {})
    return NameVerdict(name, "en", "unclear", "lang.reason.object", {"word": words[-1]})
