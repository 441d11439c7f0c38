"""Reference judge: for verifiable prompts (arithmetic, short facts) that carry a reference answer.

Each answer is checked against the prompt's reference; the verdict is 1.0 when only the second
shown answer is right, 0.0 when only the first is, and a genuine tie (0.5) when both are right or
both are wrong. A prompt without a reference is unscored, never a tie.

What counts as the answer: the text after the last ``####`` (GSM8K style), else inside the last
``\\boxed{...}``, else after the last "answer is" / "answer:", else the last non-empty line, else the
whole text. ``numeric`` compares the last number found there (commas, ``$`` and ``%`` ignored,
simple fractions ``a/b`` allowed) with ``math.isclose(rel_tol, abs_tol)``; ``exact`` compares
case- and whitespace-normalised strings with surrounding punctuation stripped, and also accepts a
final answer that ends with the reference as whole words ("The capital is Paris." for "Paris");
``auto`` is numeric when the reference parses as a number, exact otherwise.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence

from judges.config import ReferenceJudgeConfig
from judges.protocol import JudgeDefaults, PairItem
from judges.verdict import Verdict

VERSION = "1"  # bump when the matching rules change
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|-?\.\d+")
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*:?\s*(.+)", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def final_answer(text: str) -> str:
    if "####" in text:
        return text.rsplit("####", 1)[1].strip()
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1].strip()
    stated = _ANSWER_IS.findall(text)
    if stated:
        return stated[-1].strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else text.strip()


def parse_number(text: str) -> float | None:
    """The last number in ``text``, or None.

    >>> parse_number("It costs $1,250.50 in total"), parse_number("3/4"), parse_number("none")
    (1250.5, 0.75, None)
    """
    found = _NUMBER.findall(text.replace("$", "").replace("%", ""))
    if not found:
        return None
    token = found[-1].replace(",", "").replace(" ", "")
    try:
        if "/" in token:
            num, den = token.split("/")
            return float(num) / float(den) if float(den) != 0 else None
        return float(token)
    except ValueError:
        return None


def normalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip(" \t.,;:!?\"'`*()[]")


def is_correct(answer: str, reference: str, config: ReferenceJudgeConfig) -> tuple[bool, str]:
    """(correct?, the extracted answer it was judged on)."""
    extracted = final_answer(answer)
    mode = config.match
    if mode == "auto":
        mode = "numeric" if _is_number(reference) else "exact"
    if mode == "numeric":
        want = parse_number(reference)
        got = parse_number(extracted)
        if got is None:  # "the answer is four hundred" -> fall back to the whole text's last number
            got = parse_number(answer)
        ok = (
            want is not None
            and got is not None
            and math.isclose(got, want, rel_tol=config.rel_tol, abs_tol=config.abs_tol)
        )
        return ok, "" if got is None else repr(got)
    want_s, got_s = normalise(reference), normalise(extracted)
    ok = bool(want_s) and (got_s == want_s or re.search(rf"(?:^|\W){re.escape(want_s)}$", got_s) is not None)
    return ok, got_s


def _is_number(text: str) -> bool:
    cleaned = normalise(text).replace(",", "").replace("$", "").replace("%", "")
    return re.fullmatch(_NUMBER.pattern, cleaned) is not None


class ReferenceJudge(JudgeDefaults):
    # Only prompts with a reference can be judged: callers that know the prompts (the round's evaluate
    # stage) give it only those and count the rest as skipped, instead of storing an unscored verdict.
    requires_reference = True

    def __init__(self, config: ReferenceJudgeConfig | None = None) -> None:
        self.config = config or ReferenceJudgeConfig()
        self.judge_id = self.config.name
        self.judge_version = (
            f"reference-v{VERSION}:{self.config.match}:{self.config.rel_tol:g}:{self.config.abs_tol:g}"
        )
        self.template_hash = ""

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        return [self._one(item) for item in items]

    def _one(self, item: PairItem) -> Verdict:
        start = time.perf_counter()
        if item.reference is None or not str(item.reference).strip():
            return Verdict.unscored(f"prompt {item.prompt_id or '?'} has no reference answer")
        first_ok, first_got = is_correct(item.first, item.reference, self.config)
        second_ok, second_got = is_correct(item.second, item.reference, self.config)
        preference = 0.5 if first_ok == second_ok else (1.0 if second_ok else 0.0)
        raw = json.dumps(
            {
                "first_correct": first_ok,
                "second_correct": second_ok,
                "first_extracted": first_got,
                "second_extracted": second_got,
                "reference": item.reference,
            },
            ensure_ascii=False,
        )
        return Verdict(preference=preference, raw_output=raw, latency_s=time.perf_counter() - start)
