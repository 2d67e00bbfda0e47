"""GIFT, Moodle's plain-text question format, both ways (docs/exchange-gift.md).

Reading follows Moodle's own importer (qformat_gift) wherever the GIFT documentation is
silent: questions are blocks of lines separated by blank lines, lines are trimmed, `//`
lines are comments, `\\` escapes `~ = # { } :` and itself, `\\n` is a line break, the
first `{` and `}` hold the answers, and the question type is decided by the same tests in
the same order (nothing in braces: essay; `#...`: numerical; a `~`: multiple choice; `=`
and `->`: matching; T/TRUE/F/FALSE: true/false; anything else: short answer). A question
without braces is a description. Where Moodle would refuse the file (a brace never closed,
fewer than two answers, a matching line without `->`, a weight above 100%) `read` raises
ExchangeError naming the question; Moodle's import is all or nothing too.

How answer weights become correct choices:
- multiple choice with an `=` answer is Moodle's single-answer question: the one answer
  weighted 100% (the `=` one) is the correct choice; any other weight is scored 0 here,
  and a warning says so;
- multiple choice without `=` is Moodle's multiple-answer question: answers with a
  positive weight are the correct choices. This app gives each of the k correct choices
  1/k and takes 1/k off for each wrong one chosen (quiz.grading.grade_multiple), which is
  what the file's weights mean only when they are +1/k and -1/k; otherwise a warning;
- weights within 0.00001 of a simple fraction are read as that fraction (33.33333% is
  1/3), as Moodle matches them to its own list of grades.

Writing produces what Moodle imports: texts as `[markdown]`, the app's own fields in a
`// iastm:` comment right before each question, and weights that make Moodle score the
question exactly as this app does. Ordering questions (GIFT has no such type) and others
GIFT cannot hold are skipped by `write`; `unwritable` lists them with `unwritable_reason`
saying why, and `write_losses` lists what a written question loses.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable
from fractions import Fraction
from urllib.parse import quote, unquote

from ..rendering import render_markdown
from .model import MAX_FILE_BYTES, ExchangeError, ExchangeQuestion, XChoice, XPair
from .text import to_markdown

# GIFT's format names and the text formats of quiz.exchange.text.
_FORMATS = {"html": "html", "markdown": "markdown", "plain": "plain", "moodle": "moodle_auto_format"}
DEFAULT_FORMAT = "moodle_auto_format"  # Moodle's FORMAT_MOODLE: GIFT text without a [format]

# Escaped characters stand in for themselves while the structure is parsed: each is replaced
# by a Unicode noncharacter (never text), and put back in the texts at the end.
_ESCAPES = {":": "\ufdd0", "#": "\ufdd1", "=": "\ufdd2", "{": "\ufdd3", "}": "\ufdd4", "~": "\ufdd5",
            "n": "\ufdd6"}
_BACKSLASH = "\ufdd7"
_UNESCAPE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()} | {_BACKSLASH: "\\"}
_NONCHARS = re.compile("[\ufdd0-\ufdd7]")
_ESCAPE_RE = re.compile(r"\\([:#={}~n])")

# Moodle's test for an answer weight: "%50%", "%-100%", "%33.33333%".
_WEIGHT_RE = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
_CONTEXT_RE = re.compile(r"^\$(course|system|module|cat|coursecategory)\$/?")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_IASTM_RE = re.compile(r"^//\s*iastm:(.*)$")
_TOLERANCE = 0.00001  # Moodle's, when it matches a weight to its list of grades
# Moodle accepts only the grades in its list (question_bank::fraction_options_full): of the
# 1/k the app gives each of k correct choices, these.
_MOODLE_SHARES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20})
_BLANK = "_____"  # what Moodle puts where the braces of a "missing word" question were


# --- reading ------------------------------------------------------------------------

def read(data: bytes) -> list[ExchangeQuestion]:
    """The questions of a GIFT file, in file order; ExchangeError if it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError(f"the file is {len(data):,} bytes; the largest accepted is {MAX_FILE_BYTES:,}")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        at = bom + error.start
        raise ExchangeError(f"the file is not UTF-8 text (byte {at}: 0x{data[at]:02x} "
                            "cannot be decoded)") from None
    text = _NONCHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    questions: list[ExchangeQuestion] = []
    category: list[str] = []
    for first_line, lines in _blocks(text.split("\n")):
        body, iastm, skipped = _strip_comments(lines)
        if not body:
            continue
        first_line += skipped
        body = _escape(body)
        if body.startswith("$CATEGORY:"):
            head, _, rest = body.partition("\n")
            category = _category_path(_unescape(head[len("$CATEGORY:"):]).strip())
            body = rest.strip()
            first_line += 1
            if not body:
                continue
        where = f"question {len(questions) + 1} (line {first_line})"
        question = _read_question(body, where, first_line)
        question.category = list(category)
        if iastm:
            _apply_iastm(question, iastm)
        questions.append(question)
    return questions


def _blocks(lines: list[str]) -> Iterable[tuple[int, list[str]]]:
    """Runs of non-blank lines, trimmed as Moodle trims them, with their first line number."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if line:
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _strip_comments(lines: list[str]) -> tuple[str, str | None, int]:
    """The block's text with comment lines blanked (as Moodle does), the last `// iastm:`
    comment's fields, and the number of comment lines before the text."""
    iastm = None
    kept = []
    for line in lines:
        if line.startswith("//"):
            match = _IASTM_RE.match(line)
            if match:
                iastm = match.group(1)
            kept.append(" ")
        else:
            kept.append(line)
    skipped = next((i for i, line in enumerate(lines) if not line.startswith("//")), len(lines))
    return "\n".join(kept).strip(), iastm, skipped


def _escape(text: str) -> str:
    """Escaped characters to placeholders (Moodle's escapedchar_pre: `\\\\` first)."""
    text = text.replace("\\\\", _BACKSLASH)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


def _unescape(text: str) -> str:
    return _NONCHARS.sub(lambda m: _UNESCAPE[m.group()], text)


def _category_path(path: str) -> list[str]:
    """`$course$/A/B` -> ["A", "B"]: a context prefix and Moodle's "top" dropped, `//` is a
    slash inside a name."""
    path = _CONTEXT_RE.sub("", path)
    parts = [part.replace("\0", "/").strip() for part in path.replace("//", "\0").split("/")]
    parts = [part for part in parts if part]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return parts


def _apply_iastm(question: ExchangeQuestion, fields: str) -> None:
    values = {}
    for item in fields.split():
        key, sep, value = item.partition("=")
        if sep:
            values[key] = unquote(value)
    question.bank_id = values.get("id") or None
    question.source_id = values.get("source") or None
    question.difficulty = values.get("difficulty") or None
    if "key_points" in values:
        question.key_point_ids = [unquote(k) for k in values["key_points"].split(",") if k]


def _with_format(text: str, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format: a leading [html] / [markdown] / [plain] / [moodle]
    names the text's format; anything else in brackets is text."""
    fmt = default
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in _FORMATS:
            fmt = _FORMATS[text[1:end]]
            text = text[end + 1:]
    return _unescape(text).strip(), fmt


def _markdown(text: str, default: str) -> tuple[str, str]:
    raw, fmt = _with_format(text.strip(), default)
    if fmt in ("html", "moodle_auto_format") and _is_simple(raw):
        return _simple(raw), fmt
    return to_markdown(raw, fmt), fmt


# Most answers and feedback are one line of text with nothing HTML or Markdown would read:
# converting those through the HTML parser changes nothing but the spaces, and costs most of
# a large file's reading time. tests/test_exchange_gift.py checks they come out the same.
_NOT_SIMPLE = frozenset("<>&*_\\")


def _is_simple(text: str) -> bool:
    return text.isprintable() and _NOT_SIMPLE.isdisjoint(text)


def _simple(text: str) -> str:
    return re.sub(" +", " ", text).strip()


def _read_question(text: str, where: str, first_line: int) -> ExchangeQuestion:
    name = None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            text = text[2:]
        else:
            name = " ".join(_unescape(text[2:end]).split()) or None
            text = text[end + 2:].strip()
    if name:
        where = f"{where} '{name}'"

    start, finish = text.find("{"), text.find("}")
    if start == -1 and finish == -1:
        answers = None
        question_text = text
    else:
        _check_braces(text, where, first_line)
        answers = text[start + 1:finish].strip()
        # Moodle: no blank when the braces end the question, "_____" where they were otherwise.
        question_text = text[:start] + ("" if finish == len(text) - 1 else _BLANK) + text[finish + 1:]

    general = ""
    if answers is not None:
        separator = answers.rfind("####")
        if separator != -1:
            general = answers[separator + 4:]
            answers = answers[:separator].strip()

    prompt, fmt = _markdown(question_text, DEFAULT_FORMAT)
    if not prompt:
        raise ExchangeError(f"{where}: the question has no text")
    explanation, _ = _markdown(general, fmt)
    question = ExchangeQuestion(name=name or _default_name(prompt), qtype="", supported=False,
                                prompt=prompt, explanation=explanation)

    if answers is None:
        return _unsupported(question, "description", "a description (text only, no answers)")
    if answers == "":
        return _unsupported(question, "essay", "an essay")
    if answers.startswith("#"):
        return _unsupported(question, "numerical", "a numerical question")
    if "~" in answers:
        return _read_multichoice(question, answers, fmt, where)
    if "=" in answers and "->" in answers:
        return _read_matching(question, answers, fmt, where)
    head = answers.split("#", 1)[0].strip() if answers.find("#") > 0 else answers
    if head in _TRUE_FALSE:
        return _read_true_false(question, answers, fmt)
    return _unsupported(question, "shortanswer", "a short-answer question")


def _check_braces(text: str, where: str, first_line: int) -> None:
    opens = [m.start() for m in re.finditer(r"\{", text)]
    closes = [m.start() for m in re.finditer(r"\}", text)]
    if not closes:
        line = first_line + text.count("\n", 0, opens[0])
        raise ExchangeError(f"{where}: the '{{' on line {line} is never closed by '}}' "
                            "(write \\{ for a brace in the text)")
    if not opens or closes[0] < opens[0]:
        raise ExchangeError(f"{where}: a '}}' with no '{{' before it (write \\}} for a brace in the text)")
    if len(opens) > 1 or len(closes) > 1:
        raise ExchangeError(f"{where}: unbalanced braces: a GIFT question has one {{...}} answer block "
                            "(write \\{ and \\} for braces in the text)")


def _default_name(prompt: str) -> str:
    """Moodle names an unnamed question after the start of its text."""
    plain = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(render_markdown(prompt)))).split())
    plain = plain or " ".join(prompt.split())  # a text that renders as nothing (a rule, say)
    if len(plain) <= 80:
        return plain
    cut = plain[:77]
    return (cut[:cut.rfind(" ")] if " " in cut else cut) + "..."


def _unsupported(question: ExchangeQuestion, qtype: str, what: str) -> ExchangeQuestion:
    question.qtype = qtype
    question.supported = False
    question.warnings.append(f"{what}: this app has no such question type")
    return question


def _fraction(value: float) -> float:
    """A weight snapped to the simple fraction it stands for (33.33333% -> 1/3)."""
    simple = Fraction(value).limit_denominator(20)
    return float(simple) if abs(float(simple) - value) < _TOLERANCE else value


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.5f}".rstrip("0").rstrip(".") + "%"


def _split_feedback(answer: str, fmt: str) -> XChoice:
    text, _, feedback = answer.partition("#")
    choice_text, _ = _markdown(text, fmt)
    choice_feedback, _ = _markdown(feedback, fmt)
    return XChoice(text=choice_text, fraction=0.0, feedback=choice_feedback)


def _read_multichoice(question: ExchangeQuestion, answers: str, fmt: str, where: str) -> ExchangeQuestion:
    single = "=" in answers
    parts = answers.replace("=", "~=").split("~")
    parts[0] = parts[0].strip()
    if not parts[0]:
        parts.pop(0)
    if len(parts) < 2:
        raise ExchangeError(f"{where}: a multiple-choice question needs at least two answers")
    choices: list[XChoice] = []
    for number, part in enumerate(parts, start=1):
        part = part.strip()
        weight = 0.0
        if part.startswith("="):
            weight, part = 1.0, part[1:]
        elif _WEIGHT_RE.match(part):
            end = part.index("%", 1)
            try:
                weight = float(part[1:end]) / 100
            except ValueError:
                raise ExchangeError(f"{where}: answer {number} has the weight {part[:end + 1]!r}, "
                                    "which is not a number") from None
            if not -1 <= weight <= 1:
                raise ExchangeError(f"{where}: answer {number} has the weight {part[:end + 1]}; "
                                    "weights go from -100% to 100%")
            part = part[end + 1:]
        choice = _split_feedback(part, fmt)
        choice.fraction = _fraction(weight)
        if not choice.text:
            question.warnings.append(f"answer {number} has no text and is left out (as Moodle does)")
            continue
        choices.append(choice)
    question.choices = choices
    if len(choices) < 2:
        raise ExchangeError(f"{where}: a multiple-choice question needs at least two answers with text")
    return _classify_single(question) if single else _classify_multiple(question)


def _classify_single(question: ExchangeQuestion) -> ExchangeQuestion:
    full = [c for c in question.choices if abs(c.fraction - 1) < _TOLERANCE]
    if len(full) != 1:
        question.qtype, question.supported = "multichoice", False
        question.warnings.append(f"a single-answer question with {len(full)} answers weighted 100%: "
                                 "a single-choice question here has exactly one right answer")
        return question
    question.qtype, question.supported = "single", True
    for choice in question.choices:
        if choice is full[0] or choice.fraction == 0:
            continue
        if choice.fraction > 0:
            question.warnings.append(f"answer {choice.text!r} is weighted {_percent(choice.fraction)}: "
                                     "here it scores 0 (only the = answer is right)")
        else:
            question.warnings.append(f"answer {choice.text!r} is weighted {_percent(choice.fraction)}: "
                                     "here a wrong answer scores 0, with no penalty")
    return question


def _classify_multiple(question: ExchangeQuestion) -> ExchangeQuestion:
    right = [c for c in question.choices if c.fraction > 0]
    if not right:
        question.qtype, question.supported = "multichoice", False
        question.warnings.append("a multiple-answer question with no answer weighted above 0%: "
                                 "nothing could be marked correct")
        return question
    question.qtype, question.supported = "multiple", True
    share = 1 / len(right)
    uneven = [c for c in right if abs(c.fraction - share) >= _TOLERANCE]
    if uneven:
        weights = ", ".join(_percent(c.fraction) for c in right)
        question.warnings.append(f"right answers weighted {weights}: here each of the {len(right)} "
                                 f"right choices scores {_percent(share)}")
    wrong = [c for c in question.choices if c.fraction <= 0 and abs(c.fraction + share) >= _TOLERANCE]
    if wrong:
        weights = ", ".join(sorted({_percent(c.fraction) for c in wrong}))
        question.warnings.append(f"wrong answers weighted {weights}: here each wrong choice chosen "
                                 f"takes {_percent(share)} off (floored at 0)")
    return question


def _read_true_false(question: ExchangeQuestion, answers: str, fmt: str) -> ExchangeQuestion:
    """`{T#shown when wrong#shown when right}`, as Moodle reads it."""
    bits = answers.split("#", 2) + ["", ""]
    truth = _TRUE_FALSE[bits[0].strip()]
    wrong, _ = _markdown(bits[1], fmt)
    right, _ = _markdown(bits[2], fmt)
    question.qtype, question.supported = "true_false", True
    question.choices = [XChoice("True", 1.0 if truth else 0.0, right if truth else wrong),
                        XChoice("False", 0.0 if truth else 1.0, wrong if truth else right)]
    return question


def _read_matching(question: ExchangeQuestion, answers: str, fmt: str, where: str) -> ExchangeQuestion:
    parts = answers.split("=")
    parts[0] = parts[0].strip()
    if not parts[0]:
        parts.pop(0)
    if len(parts) < 2:
        raise ExchangeError(f"{where}: a matching question needs at least two = lines")
    for number, part in enumerate(parts, start=1):
        left, arrow, right = part.partition("->")
        if not arrow:
            raise ExchangeError(f"{where}: matching line {number} ({_unescape(part).strip()!r}) has no '->'")
        item, _ = _markdown(left, fmt)
        # A right side is plain text in Moodle (and an option is plain text here: shown as is).
        option = " ".join(_unescape(right).split())
        if not option:
            raise ExchangeError(f"{where}: matching line {number} has nothing after '->'")
        if item:
            question.pairs.append(XPair(left=item, right=option))
        elif option not in question.extra_options:
            question.extra_options.append(option)
    options = {p.right for p in question.pairs} | set(question.extra_options)
    if len(question.pairs) < 2 or len(options) < 2:
        question.qtype, question.supported = "match", False
        question.warnings.append(f"a matching question with {len(question.pairs)} item(s) and "
                                 f"{len(options)} option(s): this app needs at least two of each")
        return question
    question.qtype, question.supported = "matching", True
    return question


# --- writing ------------------------------------------------------------------------

def unwritable_reason(question: ExchangeQuestion) -> str | None:
    """Why GIFT cannot hold this question (or Moodle would refuse it), or None."""
    if not question.supported:
        return f"{question.qtype} is not a question type of this app"
    if question.qtype == "ordering":
        return "GIFT has no ordering question type (use Moodle XML)"
    if not question.prompt.strip():
        return "a question with no text"
    if question.qtype in ("single", "multiple") and len(question.choices) < 2:
        return "a multiple-choice question needs at least two choices"
    if question.qtype in ("single", "true_false"):
        right = [c for c in question.choices if abs(c.fraction - 1) < _TOLERANCE]
        if len(right) != 1:
            return f"a {question.qtype} question needs exactly one right choice, not {len(right)}"
        if question.qtype == "true_false" and sorted(c.text for c in question.choices) != ["False", "True"]:
            return "a true/false question has exactly the choices True and False"
        return None
    if question.qtype == "multiple":
        right = sum(1 for c in question.choices if c.fraction > 0)
        if right not in _MOODLE_SHARES:
            return (f"{right} right choices: Moodle accepts a weight of 1/{right} for each only "
                    f"with 1 to 10 or 20 right choices")
        return None
    if question.qtype == "matching":
        if not question.pairs or len(question.pairs) + len(question.extra_options) < 2:
            return "a matching question needs an item and at least two lines"
        return None
    return f"GIFT has no {question.qtype} question type"


def unwritable(questions: Iterable[ExchangeQuestion]) -> list[ExchangeQuestion]:
    """The questions `write` leaves out (see `unwritable_reason` for each)."""
    return [q for q in questions if unwritable_reason(q)]


def write_losses(question: ExchangeQuestion) -> list[str]:
    """What a written question loses in GIFT (empty: nothing)."""
    losses = []
    if question.qtype == "matching":
        if any(p.feedback for p in question.pairs):
            losses.append("matching items' feedback (GIFT has none for matching)")
        if any("->" in p.left for p in question.pairs):
            losses.append("an item's '->' is written as '-\\>' (GIFT splits items at '->')")
    return losses


def write(questions: Iterable[ExchangeQuestion]) -> bytes:
    """A UTF-8 GIFT file Moodle imports, of every question GIFT can hold (see `unwritable`)."""
    out: list[str] = []
    category: list[str] = []
    # Questions without a category first, before any $CATEGORY line: they go to the category
    # the import is made into ("$CATEGORY: $course$" alone would name a category "$course$").
    written = [q for q in questions if not unwritable_reason(q)]
    for question in sorted(written, key=lambda q: bool(q.category)):
        if question.category != category:
            out.append(f"$CATEGORY: {_category_line(question.category)}\n\n")
        category = list(question.category)
        out.append(_write_question(question))
    return "".join(out).encode("utf-8")


def _category_line(path: list[str]) -> str:
    # Moodle reads the line with GIFT's escapes but writes it as is: only a backslash needs
    # doubling (and a slash inside a name is "//"); a line break cannot be in a category.
    names = [" ".join(name.replace("\\", "\\\\").replace("/", "//").split()) for name in path]
    if names and names[0] == "top":
        names.insert(0, "top")  # "top" first is Moodle's own top category: keep a real one
    return "/".join(["$course$", *names])


def escape(text: str) -> str:
    """Text with GIFT's special characters escaped (Moodle's repchar): `\\ ~ = # { } :`
    and line breaks."""
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "\\n")


def _text(markdown: str, prefix: bool = False) -> str:
    """A Markdown text of the question; the question text carries [markdown], the others
    inherit it (and carry it too when they start with '[', which would be read as a format)."""
    return ("[markdown]" if prefix or markdown.startswith("[") else "") + escape(markdown.strip())


def _iastm_comment(question: ExchangeQuestion) -> str:
    fields = []
    if question.bank_id:
        fields.append(f"id={quote(question.bank_id, safe='')}")
    if question.source_id:
        fields.append(f"source={quote(question.source_id, safe='')}")
    if question.key_point_ids:
        fields.append("key_points=" + ",".join(quote(k, safe="") for k in question.key_point_ids))
    if question.difficulty:
        fields.append(f"difficulty={quote(question.difficulty, safe='')}")
    return f"// iastm: {' '.join(fields)}\n" if fields else ""


def _write_question(question: ExchangeQuestion) -> str:
    lines = [_iastm_comment(question) + f"::{escape(question.name)}::{_text(question.prompt, prefix=True)}{{"]
    if question.qtype == "true_false":
        truth = next(c for c in question.choices if c.text == "True").fraction > 0.5
        right = next(c for c in question.choices if (c.text == "True") == truth)
        wrong = next(c for c in question.choices if c is not right)
        answer = "TRUE" if truth else "FALSE"
        if wrong.feedback or right.feedback:
            answer += "#" + _text(wrong.feedback)
        if right.feedback:
            answer += "#" + _text(right.feedback)
        lines[0] += answer
        if question.explanation:
            lines[0] += "####" + _text(question.explanation)
        return lines[0] + "}\n\n"
    if question.qtype in ("single", "multiple"):
        share = 1 / max(1, sum(1 for c in question.choices if c.fraction > 0))
        for choice in question.choices:
            if question.qtype == "single":
                mark = "=" if abs(choice.fraction - 1) < _TOLERANCE else "~"
                if mark == "~" and _WEIGHT_RE.match(choice.text):
                    mark = "~%0%"  # a text that starts like a weight: give the weight first
            else:
                mark = "~%" + _percent(share if choice.fraction > 0 else -share)
            line = f"\t{mark}{_text(choice.text)}"
            if choice.feedback:
                line += "#" + _text(choice.feedback)
            lines.append(line)
    elif question.qtype == "matching":
        for pair in question.pairs:
            left = _text(pair.left).replace("->", "-\\>")  # GIFT splits an item at its first '->'
            lines.append(f"\t={left} -> {escape(pair.right)}")
        for option in question.extra_options:
            lines.append(f"\t= -> {escape(option)}")
    if question.explanation:
        lines.append("\t####" + _text(question.explanation))
    return "\n".join(lines) + "\n}\n\n"
