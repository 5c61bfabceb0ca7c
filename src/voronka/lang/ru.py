"""Judging a Russian stage name by its grammar (pymorphy3), and building a result-style rename.

Rules, in order (the first that applies decides):

1. a process predicate: an imperfective finite verb (``думают``, ``обрабатывается``), an
   infinitive or imperative (a task: ``перезвонить``), a gerund or a present active participle
   → **process** (it wins over a result form in the same name: ``Подписан, ждём оплату`` still
   waits);
2. a result predicate: a short passive participle (``назначена``, ``отправлено``,
   ``подписаны``), a perfective past verb (``состоялась``, ``дозвонились``), a full past passive
   participle (``подписанный``) or a short adjective (``успешна``, ``готов``) → **result**;
3. a state ``в/на/под + noun in the prepositional case`` (``в работе``, ``на согласовании``,
   ``в процессе …``) → **process**;
4. an entry stage: the adjective ``новый``/``входящий``/``неразобранный``, or an entry noun
   (``заявка``, ``лид``, ``обращение``, ``запрос``) alone → **result** (it records a fact: the
   request arrived);
5. a head noun that is a verbal noun of an activity (``согласование``, ``подготовка``,
   ``переговоры``: see :func:`~voronka.lang.ru_morph.verb_of_noun`) → **process**;
6. anything else (an object, a segment, a number) → **unclear**.
"""

from __future__ import annotations

from pymorphy3.analyzer import Parse

from voronka.lang.ru_morph import (
    Token,
    agreement,
    infinitive,
    nominative,
    perfective,
    result_form,
    tokenize,
    verb_of_noun,
)
from voronka.lang.verdict import NameVerdict

ENTRY_ADJECTIVES = frozenset({"новый", "входящий", "неразобранный"})
"""Adjectives that mark the funnel's entry stage."""

ENTRY_NOUNS = frozenset({"заявка", "лид", "обращение", "запрос"})
"""Nouns that name what enters the funnel: as the head of a name they mark the entry stage."""

OBJECT_SENSE_NOUNS = frozenset(
    {"предложение", "решение", "заявление", "соглашение", "приложение", "поручение", "сделка"}
)
"""Verbal nouns lexicalised as objects (``коммерческое предложение`` is a document, not the act
of proposing); they are not activities."""

WAIT_VERBS = frozenset({"ждать", "ожидать", "дожидаться"})
"""Waiting: the result of waiting for X is that X arrived (``Ждём оплату`` → ``Оплата получена``)."""

DELIBERATE_VERBS = frozenset({"думать", "подумать", "размышлять", "раздумывать"})
"""Deliberating has no object to put in a participle: its result is a decision."""

AUX_VERBS = frozenset({"идти", "вестись", "продолжаться", "проходить"})
"""Verbs that only say an activity is under way: the verbal noun beside them is the head."""

CONTAINER_NOUNS = frozenset({"процесс", "стадия", "этап", "ход"})
"""``в процессе X``, ``на стадии X``: the activity is X, in the genitive."""

_STATE_PREPOSITIONS = frozenset({"в", "во", "на", "под"})


def _is_process_predicate(p: Parse) -> bool:
    pos = p.tag.POS
    if pos == "VERB":
        return "impf" in p.tag or "impr" in p.tag
    if pos in ("INFN", "GRND"):
        return True
    return pos == "PRTF" and "actv" in p.tag and "pres" in p.tag


def _result_rank(tok: Token) -> int:
    """How strongly a word states a result: 4 a past short passive participle (``назначена``),
    3 a perfective past verb (``состоялась``), 2 a past full passive participle
    (``подписанный``), 1 a short adjective (``успешна``, ``готов``), 0 none. The strongest word
    of a name is the one quoted in the reason (``Замер проведён``: ``проведён``, not ``замер``).
    """
    if tok.any("PRTS", "pssv", "past"):
        return 4
    p = tok.best
    if p.tag.POS == "VERB" and "perf" in p.tag and "past" in p.tag:
        return 3
    if p.tag.POS == "PRTF" and "pssv" in p.tag and "past" in p.tag:
        return 2
    return 1 if p.tag.POS == "ADJS" else 0


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _noun_phrase_after(
    tokens: list[Token], start: int, case: str = "gent", stop: int | None = None
) -> tuple[str, Parse] | None:
    """The first noun phrase from ``start`` on, in the nominative: adjectives agreeing with the
    noun, the noun, and the words after it as written (``коммерческого предложения клиенту`` →
    ``коммерческое предложение клиенту``). ``case``: the case the noun is in (the genitive after a
    verbal noun, the accusative after a verb), used to tell ``цены`` (pl.) from ``цены`` (gen.
    sg.). Returns the text and the noun's nominative parse."""
    adjs: list[Token] = []
    end = len(tokens) if stop is None else stop
    for i in range(start, end):
        tok = tokens[i]
        pos = tok.best.tag.POS
        if pos in ("ADJF", "PRTF"):
            adjs.append(tok)
            continue
        if pos != "NOUN" and "Abbr" not in tok.best.tag:
            adjs = []
            continue
        number = None
        in_case = tok.any("NOUN", case)
        if in_case is not None:
            tok = Token(tok.text, tok.word, (in_case, *tok.parses))
            number = in_case.tag.number
        noun_text, noun_parse = nominative(tok, number)
        if noun_parse is None:
            return None
        gender, num = agreement(noun_parse)
        words = []
        for a in adjs:
            q = a.best.inflect({"nomn", num} if num == "plur" else {"nomn", gender or "neut"})
            words.append(str(q.word) if q is not None else a.text)
        words.append(noun_text)
        words += [t.text for t in tokens[i + 1 : end]]
        return " ".join(words), noun_parse
    return None


def _rename_with_verb(
    verb: Parse, tokens: list[Token], obj_from: int, case: str = "gent", subject: int = 0
) -> str | None:
    """``<object> <participle>`` for a transitive verb, ``<past plural> <rest>`` otherwise.

    The object is the noun phrase after the verb (in ``case``); failing that, for a reflexive
    passive (``Заявка обрабатывается``), the first ``subject`` tokens before it.
    """
    lemma = verb.normal_form
    obj = _noun_phrase_after(tokens, obj_from, case)
    if obj is None and subject:
        obj = _noun_phrase_after(tokens, 0, "nomn", stop=subject)
    if lemma in WAIT_VERBS:
        text, noun = obj if obj else ("ответ", tokenize("ответ")[0].best)
        gender, number = agreement(noun)
        got = infinitive("получить")
        form = result_form(got, gender, number) if got else None
        return _cap(f"{text} {form}") if form else None
    if lemma in DELIBERATE_VERBS:
        return "Решение принято"
    perf = perfective(verb)
    if perf is None:
        return None
    if obj is not None and "tran" in perf.tag:
        text, noun = obj
        gender, number = agreement(noun)
        form = result_form(perf, gender, number)
        return _cap(f"{text} {form}") if form else None
    rest = " ".join(t.text for t in tokens[obj_from:])
    if (
        "intr" in perf.tag
        and not rest
        and perf.normal_form.startswith(("по", "про"))
        and (perf.normal_form != lemma)
    ):
        # по-/про- perfectives of intransitive verbs mean "for a while" (поработать): no result
        return None
    form = result_form(perf, "neut", "sing")
    if form is None:
        return None
    return _cap(f"{form} {rest}".strip())


def _rename_activity(tokens: list[Token], head: int, verb: Parse) -> str | None:
    """Rename a verbal-noun name: the object in the genitive becomes the subject of the verb's
    participle (``Согласование договора`` → ``Договор согласован``); without an object, the
    activity itself is declared finished (``Переговоры завершены``)."""
    noun = tokens[head].best
    has_object = head + 1 < len(tokens)
    if verb.normal_form in WAIT_VERBS or (has_object and "Pltm" not in noun.tag):
        renamed = _rename_with_verb(verb, tokens, head + 1)
        if renamed:
            return renamed
    done = infinitive("завершить")
    nom_text, nom = nominative(tokens[head])
    if done is None or nom is None:
        return None
    gender, number = agreement(nom)
    adjs = []
    for a in tokens[:head]:
        if a.best.tag.POS in ("ADJF", "PRTF"):
            q = a.best.inflect({"nomn", number} if number == "plur" else {"nomn", gender or "neut"})
            adjs.append(str(q.word) if q is not None else a.text)
    tail = [t.text for t in tokens[head + 1 :]]
    return _cap(" ".join([*adjs, nom_text, *tail, result_form(done, gender, number) or ""]).strip())


def _activity_head(tokens: list[Token], start: int = 0) -> tuple[int, Parse] | None:
    """The first noun from ``start`` and the verb it derives from, if it is an activity."""
    for i in range(start, len(tokens)):
        p = tokens[i].best
        if p.tag.POS != "NOUN":
            continue
        if p.normal_form in CONTAINER_NOUNS:
            continue
        if p.normal_form in OBJECT_SENSE_NOUNS or p.normal_form in ENTRY_NOUNS:
            return None
        verb = verb_of_noun(p)
        return (i, verb) if verb is not None else None
    return None


def judge_ru(name: str, *, entry: bool = False) -> NameVerdict:
    """Judge a Russian stage name (see the module docstring for the rules).

    ``entry``: the caller knows this is the funnel's first stage (it is then a result unless a
    process form says otherwise).
    """
    tokens = tokenize(name)
    if not tokens:
        return NameVerdict(name, "ru", "unclear", "lang.reason.empty")

    # 1. process predicates (they win: a deal waits in whatever the name says is going on)
    for i, tok in enumerate(tokens):
        p = tok.best
        if not _is_process_predicate(p):
            continue
        if p.normal_form in AUX_VERBS:
            act = _activity_head(tokens, i + 1)
            if act is not None:
                return NameVerdict(
                    name,
                    "ru",
                    "process",
                    "lang.reason.process_noun",
                    {"word": tokens[act[0]].text, "verb": act[1].normal_form},
                    _rename_activity(tokens, act[0], act[1]),
                )
        key = (
            "lang.reason.task_verb"
            if p.tag.POS == "INFN" or "impr" in p.tag
            else ("lang.reason.process_verb")
        )
        verb = infinitive(p.normal_form) or p
        base = infinitive(p.normal_form[:-2]) if p.normal_form.endswith("ся") else None
        if base is not None and "tran" in base.tag and "impf" in p.tag:
            # an imperfective -ся of a transitive verb reads as passive (обрабатывается = is
            # being processed; perfective связаться is not): its object is the
            # subject before it, or none ("Обработано")
            suggestion = _rename_with_verb(base, tokens, i + 1, "accs", subject=i)
        else:
            suggestion = _rename_with_verb(verb, tokens, i + 1, "accs")
        return NameVerdict(name, "ru", "process", key, {"word": tok.text}, suggestion)

    # 2. result predicates
    ranked = [(_result_rank(tok), i) for i, tok in enumerate(tokens)]
    rank, at = max(ranked)
    if rank > 0:
        key = "lang.reason.result_state" if rank == 1 else "lang.reason.result_form"
        return NameVerdict(name, "ru", "result", key, {"word": tokens[at].text})

    # 3. "в/на + prepositional case": a state the deal sits in
    for i, tok in enumerate(tokens[:-1]):
        if tok.word in _STATE_PREPOSITIONS:
            nxt = tokens[i + 1]
            if nxt.any("NOUN", "loct") or nxt.any("NOUN", "loc2"):
                phrase = " ".join(t.text for t in tokens[i:])
                act = _activity_head(tokens, i + 1)
                suggestion = _rename_activity(tokens, act[0], act[1]) if act else None
                return NameVerdict(
                    name,
                    "ru",
                    "process",
                    "lang.reason.process_state",
                    {"phrase": phrase},
                    suggestion,
                )

    # 4. the entry stage
    for tok in tokens:
        if tok.best.normal_form in ENTRY_ADJECTIVES:
            return NameVerdict(name, "ru", "result", "lang.reason.entry", {"word": tok.text})
    first_noun = next((t for t in tokens if t.best.tag.POS == "NOUN"), None)
    # a bare entry noun only: "Горячие заявки" is a segment, not the entry stage
    if len(tokens) == 1 and first_noun is not None and first_noun.best.normal_form in ENTRY_NOUNS:
        return NameVerdict(name, "ru", "result", "lang.reason.entry", {"word": first_noun.text})

    # 5. a verbal noun of an activity as the head
    act = _activity_head(tokens)
    if act is not None:
        i, verb = act
        return NameVerdict(
            name,
            "ru",
            "process",
            "lang.reason.process_noun",
            {"word": tokens[i].text, "verb": verb.normal_form},
            _rename_activity(tokens, i, verb),
        )
    if entry:
        return NameVerdict(name, "ru", "result", "lang.reason.entry_position", {})
    if first_noun is not None:
        return NameVerdict(name, "ru", "unclear", "lang.reason.object", {"word": first_noun.text})
    return NameVerdict(name, "ru", "unclear", "lang.reason.empty")
