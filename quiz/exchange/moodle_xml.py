"""Moodle XML, both ways: `read(data)` -> ExchangeQuestions, `write(questions)` -> bytes.

Pure: no Flask, no database. The field mapping, and what is lost each way, is in
docs/exchange-moodle-xml.md. In short:

- `<question type="category">` sets the category of the questions after it: the path below
  `$course$/` (or `$system$/`, `$module$/`, `$cat$/`, and a leading `top/`), split on `/`
  (`//` is a slash inside a name).
- multichoice (`<single>` true or false), truefalse, matching and qtype_ordering's ordering are
  read in full; every other type is returned as `supported=False` with its name and type only.
- Texts are converted from their `format` to the bank's Markdown by quiz.exchange.text and
  written back as `format="html"`.
- Answer fractions are kept as given (percent / 100, negatives kept); how they become the
  bank's correct flags is `is_correct`, and what the bank cannot score exactly is reported in
  ExchangeQuestion.warnings, as is every Moodle setting the bank does not hold.
- This app's own fields ride along: `<idnumber>` = bank id, tags `iastm:source=`,
  `iastm:key_point=` and `iastm:difficulty=`.

XML is parsed with defusedxml: a DOCTYPE, entity declarations (billion laughs) and external
references are refused, and so is any file over MAX_FILE_BYTES.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, fromstring

from .model import MAX_FILE_BYTES, ExchangeError, ExchangeQuestion, XChoice, XPair
from .text import to_html, to_markdown

SUPPORTED = {"multichoice", "truefalse", "matching", "ordering"}
CONTEXTS = ("$course$", "$system$", "$module$", "$cat$", "$coursecategory$")
TAG_PREFIX = "iastm:"
MOODLE_TAG_MAX = 50  # Moodle cuts longer tags (TAG_MAX_LENGTH): key point ids up to 34 characters fit
DIFFICULTIES = ("easy", "medium", "hard")
# Moodle's format attribute names -> quiz.exchange.text's.
_FORMATS = {"html": "html", "moodle_auto_format": "moodle_auto_format", "plain_text": "plain",
            "plain": "plain", "markdown": "markdown", "": "html"}
# Moodle's own defaults, which are not reported as lost when a file carries them.
_DEFAULT_PENALTY = {"truefalse": 1.0}  # every other type: 0.3333333
_DEFAULT_COMBINED = {"correctfeedback": "Your answer is correct.",
                     "partiallycorrectfeedback": "Your answer is partially correct.",
                     "incorrectfeedback": "Your answer is incorrect."}
_COMBINED_LABEL = {"correctfeedback": "correct", "partiallycorrectfeedback": "partially correct",
                   "incorrectfeedback": "incorrect"}
EPS = 1e-6
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- what a fraction means to the bank ---------------------------------------------------------

def is_correct(qtype: str, fraction: float) -> bool:
    """Whether a choice with this Moodle fraction is a correct choice in the bank.

    single and true_false: only a 100% answer is the correct one (the bank scores right or
    wrong). multiple: every answer worth more than 0% is correct (the bank gives each an equal
    share, and takes a share away for each wrong one chosen)."""
    if qtype == "multiple":
        return fraction > EPS
    return abs(fraction - 1.0) < EPS


def fractions_for(qtype: str, correct: list[bool]) -> list[float]:
    """The Moodle fractions that make Moodle score a bank question as the bank does: single
    and true_false 1 / 0; multiple 1/k for each of its k correct choices and -1/k for each wrong
    one (Moodle adds up the chosen fractions and floors at 0, which is the bank's rule)."""
    if qtype != "multiple":
        return [1.0 if c else 0.0 for c in correct]
    k = sum(correct) or 1
    return [1.0 / k if c else -1.0 / k for c in correct]


def _snap(fraction: float) -> float:
    """A fraction read from a file, snapped to n/k (k up to 20) when it is one to within
    rounding, so 33.33333% reads back as exactly 1/3."""
    for k in range(1, 21):
        n = round(fraction * k)
        if abs(fraction - n / k) < EPS:
            return n / k
    return fraction


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _shown_percent(fraction: float) -> str:
    return f"{_percent(fraction)}%"


# --- reading ----------------------------------------------------------------------------------

def read(data: bytes) -> list[ExchangeQuestion]:
    """The questions of a Moodle XML file (a <quiz> of questions, or one bare <question>)."""
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError(f"the file is {len(data):,} bytes; the largest accepted is "
                            f"{MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES // (1024 * 1024)} MiB)")
    root = _parse(data)
    if root.tag == "question":
        elements = [root]
    elif root.tag == "quiz":
        elements = [child for child in root if child.tag == "question"]
    else:
        raise ExchangeError(f"this is not a Moodle XML file: the root element is <{root.tag}>, "
                            "expected <quiz> (or a single <question>)")
    questions: list[ExchangeQuestion] = []
    category: list[str] = []
    for number, element in enumerate(elements, start=1):
        qtype = (element.get("type") or "").strip()
        if qtype == "category":
            category = _category_path(_text_of(element.find("category")))
            continue
        questions.append(_read_question(element, qtype, list(category), number))
    return questions


def _parse(data: bytes) -> Any:
    try:
        # Moodle never writes a DOCTYPE: refusing any keeps entities (billion laughs) and
        # external references (entities or DTDs) out before they are looked at.
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        raise ExchangeError("the file declares XML entities, which are refused (they can expand "
                            f"without limit or read other files): entity {exc.name!r}") from None
    except ExternalReferenceForbidden as exc:
        raise ExchangeError("the file refers to an external resource, which is refused: "
                            f"{exc.sysid or exc.pubid!r}") from None
    except DTDForbidden:
        raise ExchangeError("the file has a document type declaration (<!DOCTYPE>), which is refused: "
                            "Moodle XML has none, and it could declare entities that expand without "
                            "limit or read other files") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        raise ExchangeError(f"this is not well-formed XML: {reason} at line {line}, "
                            f"column {column + 1}") from None


def _category_path(path: str) -> list[str]:
    """`$course$/A/B` -> ["A", "B"]; `//` is a slash inside a name (Moodle's rule)."""
    names = [part.replace("//", "/").strip() for part in re.split(r"(?<!/)/(?!/)", path.strip())]
    if names and names[0] in CONTEXTS:
        names = names[1:]
    if names and names[0] == "top":
        names = names[1:]
    return [name for name in names if name]


def _text_of(element: Any) -> str:
    """The <text> of an element (or its own text, Moodle's oldest files), raw."""
    if element is None:
        return ""
    text = element.find("text")
    raw = text.text if text is not None else element.text
    return (raw or "").strip()


class _Reader:
    """One question's reading: texts in the bank's Markdown, and the warnings found."""

    def __init__(self, element: Any, qtype: str, name: str):
        self.element = element
        self.qtype = qtype
        self.name = name
        self.warnings: list[str] = []
        # Moodle's rule: a text without a format has the question text's (html if none).
        questiontext = element.find("questiontext")
        self.default_format = (questiontext.get("format") if questiontext is not None else None) or "html"

    def markdown(self, element: Any) -> str:
        if element is None:
            return ""
        raw = _text_of(element)
        given = (element.get("format") or self.default_format).strip().lower()
        fmt = _FORMATS.get(given)
        if fmt is None:
            self.warnings.append(f"text format {given!r} is unknown here: read as plain text")
            fmt = "plain"
        if not raw:
            return ""
        return to_markdown(raw, fmt)

    def inline(self, element: Any) -> str:
        """A matching answer: Moodle keeps it as a string shown without its tags (format_string),
        so it is read as HTML."""
        return to_markdown(_text_of(element), "html") if element is not None else ""

    def fraction(self, answer: Any, percent: bool = True) -> float:
        raw = (answer.get("fraction") or "0").strip()
        try:
            value = float(raw)
        except ValueError:
            raise ExchangeError(f"question {self.name!r}: answer fraction {raw!r} is not a number"
                                ) from None
        if not math.isfinite(value):
            raise ExchangeError(f"question {self.name!r}: answer fraction {raw!r} is not a number")
        return _snap(value / 100) if percent else value

    def child(self, tag: str) -> str:
        found = self.element.find(tag)
        return (found.text or "").strip() if found is not None else ""


def _read_question(element: Any, qtype: str, category: list[str], number: int) -> ExchangeQuestion:
    name = " ".join(_text_of(element.find("name")).split())
    if qtype not in SUPPORTED:
        return ExchangeQuestion(name=name or f"question {number}", qtype=qtype or "unknown",
                                supported=False, category=category)
    reader = _Reader(element, qtype, name or f"question {number}")
    prompt = reader.markdown(element.find("questiontext"))  # the first, when it is given twice
    if not name:
        name = _name_from(prompt) or f"question {number}"
        reader.name = name
    question = ExchangeQuestion(name=name, qtype=qtype, supported=True, prompt=prompt,
                                explanation=reader.markdown(element.find("generalfeedback")),
                                category=category)
    if qtype == "multichoice":
        _read_multichoice(reader, question)
    elif qtype == "truefalse":
        _read_truefalse(reader, question)
    elif qtype == "matching":
        _read_matching(reader, question)
    else:
        _read_ordering(reader, question)
    _read_own_fields(reader, question)
    _report_settings(reader)
    question.warnings = list(dict.fromkeys(reader.warnings))  # each once, in the order found
    return question


def _name_from(prompt: str) -> str:
    words = re.sub(r"[\\*_`#>\[\]()]", "", prompt).split()
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > 60:
            break
        name = f"{name} {word}".strip()
    return name


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _read_choices(reader: _Reader) -> list[XChoice]:
    choices = []
    for answer in reader.element.findall("answer"):
        if not _text_of(answer):
            continue  # Moodle drops blank answers too
        choices.append(XChoice(text=reader.markdown(answer), fraction=reader.fraction(answer),
                               feedback=reader.markdown(answer.find("feedback"))))
    return choices


def _read_multichoice(reader: _Reader, question: ExchangeQuestion) -> None:
    single = _truthy(reader.child("single") or "true")
    question.qtype = "single" if single else "multiple"
    question.choices = _read_choices(reader)
    if single:
        _check_single(reader, question.choices)
    else:
        _check_multiple(reader, question.choices)
    numbering = reader.child("answernumbering").lower()
    if numbering not in ("", "abc", "none"):
        reader.warnings.append(f"answer numbering {numbering!r} is not shown: the app does not "
                               "number choices")


def _check_single(reader: _Reader, choices: list[XChoice]) -> None:
    full = [c for c in choices if is_correct("single", c.fraction)]
    if not full:
        reader.warnings.append("no answer is worth 100%, so there is no correct choice "
                               "(the app needs exactly one)")
    elif len(full) > 1:
        reader.warnings.append(f"{len(full)} answers are worth 100% (the app needs exactly one "
                               "correct choice)")
    for choice in choices:
        if EPS < choice.fraction < 1 - EPS:
            reader.warnings.append(f"answer {_short(choice.text)} is worth "
                                   f"{_shown_percent(choice.fraction)}: the app scores a single "
                                   "choice right or wrong, so it counts as wrong")
        elif choice.fraction < -EPS:
            reader.warnings.append(f"answer {_short(choice.text)} is worth "
                                   f"{_shown_percent(choice.fraction)}: the app takes nothing away "
                                   "for a wrong single choice, so it scores 0")


def _check_multiple(reader: _Reader, choices: list[XChoice]) -> None:
    right = [c for c in choices if is_correct("multiple", c.fraction)]
    wrong = [c for c in choices if not is_correct("multiple", c.fraction)]
    if not right:
        reader.warnings.append("no answer is worth more than 0%, so there is no correct choice "
                               "(the app needs at least one)")
        return
    share = 1 / len(right)
    if any(abs(c.fraction - share) > EPS for c in right):
        weights = ", ".join(_shown_percent(c.fraction) for c in right)
        reader.warnings.append(f"the correct answers weigh {weights}: the app gives each of the "
                               f"{len(right)} an equal share ({_shown_percent(share)})")
    odd = sorted({_shown_percent(c.fraction) for c in wrong if abs(c.fraction + share) > EPS})
    if odd:
        reader.warnings.append(f"wrong answers weigh {', '.join(odd)}: the app takes "
                               f"{_shown_percent(share)} away for each wrong choice chosen "
                               "(never below 0)")


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _read_truefalse(reader: _Reader, question: ExchangeQuestion) -> None:
    question.qtype = "true_false"
    answers = reader.element.findall("answer")
    by_value: dict[str, XChoice] = {}
    for position, answer in enumerate(answers[:2]):
        value = _text_of(answer).lower()
        if value not in ("true", "false"):  # Moodle's rule for old files: true first, then false
            value = "true" if position == 0 else "false"
        by_value[value] = XChoice(text=value.title(), fraction=reader.fraction(answer),
                                  feedback=reader.markdown(answer.find("feedback")))
    question.choices = [by_value.get(v, XChoice(text=v.title(), fraction=0.0))
                        for v in ("true", "false")]
    fractions = sorted(round(c.fraction, 6) for c in question.choices)
    if fractions != [0.0, 1.0]:
        shown = ", ".join(f"{c.text} {_shown_percent(c.fraction)}" for c in question.choices)
        reader.warnings.append(f"the answers are worth {shown}: the app needs one right (100%) "
                               "and one wrong (0%)")


def _read_matching(reader: _Reader, question: ExchangeQuestion) -> None:
    distractors: list[str] = []
    for sub in reader.element.findall("subquestion"):
        left = reader.markdown(sub)
        right = reader.inline(sub.find("answer"))
        if left:
            question.pairs.append(XPair(left=left, right=right))
        elif right:
            distractors.append(right)
    used = {p.right for p in question.pairs}
    for option in distractors:
        if option not in used:
            used.add(option)
            question.extra_options.append(option)


def _read_ordering(reader: _Reader, question: ExchangeQuestion) -> None:
    steps = []
    answers = [a for a in reader.element.findall("answer") if _text_of(a)]  # blanks dropped, as Moodle does
    for index, answer in enumerate(answers):
        steps.append((reader.fraction(answer, percent=False), index, reader.markdown(answer),
                      reader.markdown(answer.find("feedback"))))
    ordered = sorted(steps)  # fraction = position; ties keep the file's order
    if [s[1] for s in ordered] != list(range(len(steps))):
        reader.warnings.append("the answers are not listed in their right order: the order "
                               "given by their fractions (positions) was used")
    question.steps = [s[2] for s in ordered]
    feedback = [s[3] for s in ordered]
    question.step_feedback = feedback if any(feedback) else []
    _check_ordering_settings(reader, len(steps))


def _check_ordering_settings(reader: _Reader, count: int) -> None:
    select = (reader.child("selecttype") or reader.child("logical") or "RANDOM").upper()
    raw_count = reader.child("selectcount") or reader.child("studentsee") or "6"
    try:
        shown = int(float(raw_count))
    except ValueError:
        shown = 0
    if select not in ("ALL", "EXACT", "0") and 0 < shown < count:
        reader.warnings.append(f"Moodle shows {shown} of the {count} items, drawn at random; "
                               "the app always asks for all of them")
    grading = (reader.child("gradingtype") or "RELATIVE_NEXT_EXCLUDE_LAST (Moodle's default)")
    if grading.upper() != "LONGEST_ORDERED_SUBSET":
        reader.warnings.append(f"Moodle grades this ordering by {grading}; the app scores the "
                               "longest run of steps in the right order")


def _read_own_fields(reader: _Reader, question: ExchangeQuestion) -> None:
    idnumber = reader.child("idnumber")
    question.bank_id = idnumber or None
    tags = reader.element.find("tags")
    for tag in tags.findall("tag") if tags is not None else []:
        value = _text_of(tag)
        if not value.lower().startswith(TAG_PREFIX):
            continue
        key, _, content = value[len(TAG_PREFIX):].partition("=")
        key, content = key.strip().lower(), content.strip()
        if not content:
            continue
        if key == "source":
            question.source_id = content
        elif key == "key_point":
            if content not in question.key_point_ids:
                question.key_point_ids.append(content)
        elif key == "difficulty":
            if content.lower() in DIFFICULTIES:
                question.difficulty = content.lower()
            else:
                reader.warnings.append(f"difficulty {content!r} is not easy, medium or hard: "
                                       "left unset")


def _report_settings(reader: _Reader) -> None:
    """Warnings for what the bank does not hold, where the file sets it to anything but
    Moodle's default."""
    element, warn = reader.element, reader.warnings.append
    grade = reader.child("defaultgrade")
    if grade and _number(grade) not in (None, 1.0):
        warn(f"default mark {grade}: every question is worth 1 in the app")
    penalty = reader.child("penalty")
    default_penalty = _DEFAULT_PENALTY.get(reader.qtype, 0.3333333)
    value = _number(penalty) if penalty else None
    if value is not None and abs(value - default_penalty) > 0.005:  # Moodle's own tolerance
        warn(f"penalty {penalty} for each try: the app has one try per attempt and no penalty")
    shuffle = reader.child("shuffleanswers") or ("1" if reader.qtype == "matching" else "0")
    if reader.qtype in ("multichoice", "matching") and not _truthy(shuffle):  # Moodle's defaults
        warn("the file keeps the answers in a fixed order: the app shuffles them")
    lost = []
    for tag, default in _DEFAULT_COMBINED.items():
        found = element.find(tag)
        text = _plain_words(_text_of(found)) if found is not None else ""
        if text and text != default:
            lost.append(_COMBINED_LABEL[tag])
    if lost:
        warn(f"the feedback for a {', '.join(lost)} response is dropped: the app shows each "
             "choice's feedback and the explanation")
    hints = [h for h in element.findall("hint") if _text_of(h)]
    if hints:
        warn(f"{len(hints)} hint{'s' if len(hints) > 1 else ''} dropped: the app has no hints")
    if next(element.iter("file"), None) is not None:
        warn("embedded files (images) are dropped")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _plain_words(text: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", html.unescape(text)).split())


# --- writing ----------------------------------------------------------------------------------

def write(questions: Iterable[ExchangeQuestion]) -> bytes:
    """A Moodle XML <quiz> of the supported questions (unsupported ones are not written)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    current: list[str] | None = None
    for question in questions:
        if not question.supported:
            continue
        if question.category != current and (current is not None or question.category):
            current = list(question.category)
            out += _category(current)
        out += _question(question)
    out.append("</quiz>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _esc(text: str) -> str:
    """Element text: as is when plain, else in CDATA as Moodle writes it (a `]]>` inside is split
    across two sections). Characters XML cannot hold are dropped."""
    text = _XML_INVALID.sub("", text)
    if not any(c in text for c in "<>&"):
        return text
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def category_path(names: list[str]) -> str:
    """["A", "B/C"] -> `$course$/A/B//C`; [] (after questions with a category) -> `$course$/top`,
    the course's top category, which reads back as []."""
    return "/".join(["$course$", *(name.replace("/", "//") for name in names or ["top"])])


def _category(names: list[str]) -> list[str]:
    return ["", '  <question type="category">', "    <category>",
            f"      <text>{_esc(category_path(names))}</text>", "    </category>", "  </question>"]


def _text(tag: str, markdown: str, indent: int, fmt: bool = True) -> list[str]:
    pad = " " * indent
    body = to_html(markdown) if markdown else ""
    attr = ' format="html"' if fmt else ""
    return [f"{pad}<{tag}{attr}>", f"{pad}  <text>{_esc(body)}</text>", f"{pad}</{tag}>"]


def _inline_html(markdown: str) -> str:
    """A matching answer: the bank text's HTML without its paragraph (Moodle shows the string
    with its tags stripped)."""
    body = to_html(markdown)
    match = re.fullmatch(r"<p>(.*)</p>", body, re.DOTALL)
    return match.group(1) if match and "<p>" not in match.group(1) else body


def _answer(fraction: str, text: str, feedback: str, fmt: str = "html",
            text_is_html: bool = False) -> list[str]:
    body = text if text_is_html else to_html(text)
    lines = [f'    <answer fraction="{fraction}" format="{fmt}">', f"      <text>{_esc(body)}</text>"]
    if feedback:
        lines += _text("feedback", feedback, 6)
    lines.append("    </answer>")
    return lines


_MOODLE_TYPE = {"single": "multichoice", "multiple": "multichoice", "true_false": "truefalse",
                "matching": "matching", "ordering": "ordering"}


def _question(q: ExchangeQuestion) -> list[str]:
    try:
        moodle_type = _MOODLE_TYPE[q.qtype]
    except KeyError:
        raise ExchangeError(f"question {q.name!r}: type {q.qtype!r} cannot be written to "
                            "Moodle XML") from None
    out = ["", f'  <question type="{moodle_type}">', "    <name>", f"      <text>{_esc(q.name)}</text>",
           "    </name>"]
    out += _text("questiontext", q.prompt, 4)
    out += _text("generalfeedback", q.explanation, 4)
    penalty = "1" if moodle_type == "truefalse" else "0.3333333"
    out += ["    <defaultgrade>1</defaultgrade>", f"    <penalty>{penalty}</penalty>",
            "    <hidden>0</hidden>", f"    <idnumber>{_esc(q.bank_id or '')}</idnumber>"]
    if moodle_type == "multichoice":
        out += [f"    <single>{'true' if q.qtype == 'single' else 'false'}</single>",
                "    <shuffleanswers>1</shuffleanswers>", "    <answernumbering>none</answernumbering>"]
        for choice in q.choices:
            out += _answer(_percent(choice.fraction), choice.text, choice.feedback)
    elif moodle_type == "truefalse":
        for choice in q.choices:
            value = "true" if choice.text.strip().lower() == "true" else "false"
            out += _answer(_percent(choice.fraction), value, choice.feedback,
                           fmt="moodle_auto_format", text_is_html=True)
    elif moodle_type == "matching":
        out.append("    <shuffleanswers>1</shuffleanswers>")
        rights = [(p.left, p.right) for p in q.pairs] + [("", o) for o in q.extra_options]
        for left, right in rights:
            out += ['    <subquestion format="html">',
                    f"      <text>{_esc(to_html(left) if left else '')}</text>",
                    "      <answer>", f"        <text>{_esc(_inline_html(right))}</text>",
                    "      </answer>", "    </subquestion>"]
    else:
        out += ["    <layouttype>VERTICAL</layouttype>", "    <selecttype>ALL</selecttype>",
                f"    <selectcount>{len(q.steps)}</selectcount>",
                "    <gradingtype>LONGEST_ORDERED_SUBSET</gradingtype>",
                "    <showgrading>SHOW</showgrading>", "    <numberingstyle>none</numberingstyle>"]
        for position, step in enumerate(q.steps, start=1):
            feedback = q.step_feedback[position - 1] if position <= len(q.step_feedback) else ""
            out += _answer(str(position), step, feedback)
    out += _tags(q)
    out.append("  </question>")
    return out


def _tags(q: ExchangeQuestion) -> list[str]:
    values = []
    if q.source_id:
        values.append(f"{TAG_PREFIX}source={q.source_id}")
    values += [f"{TAG_PREFIX}key_point={kp}" for kp in q.key_point_ids]
    if q.difficulty:
        values.append(f"{TAG_PREFIX}difficulty={q.difficulty}")
    if not values:
        return []
    return ["    <tags>", *(f"      <tag><text>{_esc(v)}</text></tag>" for v in values), "    </tags>"]
