"""OpenAI-compatible judge: a model behind vLLM, SGLang, TGI or a hosted API.

Logprob mode asks for ONE token with ``logprobs`` and ``top_logprobs``; the soft preference is
``sigmoid(logsumexp(lp of 'B' spellings) - logsumexp(lp of 'A' spellings))`` over the first token's
alternatives (a spelling is any token that strips to the label). When only one label is among the
top alternatives, the other's log-probability is bounded by the smallest one listed and that bound
is used (``"bounded": true`` in ``raw_output``). When neither is listed, or the server returns no
logprobs, the text is parsed ('A'/'B' first, or [[A]]/[[B]]/[[C]]); unparseable text is unscored.

Reasoning mode asks for the comparison first and parses [[A]]/[[B]]/[[C]] (C = a tie).

The assistant-prefix section of a template is not sent (the chat API has no portable way to make
the model continue a prefix); the user message already asks for the bare letter.

Server failures after the client's retries are unscored verdicts marked retryable: the driver does
not store them, so a rerun tries those pairs again. ``check()`` fails fast, naming the URL, when the
server is unreachable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from judges.config import OpenAIJudgeConfig
from judges.llm_judge import parse_bracket_verdict
from judges.protocol import PairItem
from judges.template import load_template
from judges.verdict import Verdict
from rlhf.openai_client import ChatError, ChatResult, OpenAIClient

_RETRYABLE = frozenset({429, 500, 502, 503, 504})


def soft_preference(top: dict[str, float]) -> tuple[float, dict] | None:
    """P(second better) from one position's ``{token: logprob}``; None when no label is listed.

    >>> round(soft_preference({"A": math.log(0.2), " B": math.log(0.6), "The": -3.0})[0], 6)
    0.75
    """
    lps = {
        "A": [lp for tok, lp in top.items() if tok.strip() == "A"],
        "B": [lp for tok, lp in top.items() if tok.strip() == "B"],
    }
    if not lps["A"] and not lps["B"]:
        return None
    floor = min(top.values())
    bounded = not lps["A"] or not lps["B"]
    lp_a = _logsumexp(lps["A"]) if lps["A"] else floor
    lp_b = _logsumexp(lps["B"]) if lps["B"] else floor
    preference = 1.0 / (1.0 + math.exp(lp_a - lp_b))
    return preference, {"logp_A": lp_a, "logp_B": lp_b, "bounded": bounded}


def parse_letter(text: str) -> float | None:
    """'B', 'B.', 'B) because...' -> 1.0; 'A' -> 0.0; [[X]] tags as in reasoning mode; else None."""
    stripped = text.strip().lstrip("*_\"'([ ")
    if stripped[:1] in ("A", "B") and (len(stripped) == 1 or not stripped[1].isalnum()):
        return 0.0 if stripped[0] == "A" else 1.0
    return parse_bracket_verdict(text)


def _public_url(url: str) -> str:
    """``url`` without credentials and without a trailing slash.

    >>> _public_url("https://user:secret@api.example.com/v1/")
    'https://api.example.com/v1'
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


class OpenAIJudge:
    def __init__(self, config: OpenAIJudgeConfig, *, client: OpenAIClient | None = None):
        self.config = config
        self.client = client or OpenAIClient(
            config.base_url,
            config.model,
            api_key_env=config.api_key_env,
            max_concurrency=config.max_concurrency,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            prompt_price_per_mtok=config.prompt_price_per_mtok,
            completion_price_per_mtok=config.completion_price_per_mtok,
        )
        self.template = load_template(config.template)
        self.rationale_template = load_template(config.rationale_template)
        self.judge_id = config.name
        self.template_hash = self.template.hash
        self.judge_version = self._version()
        self.model_calls = 0

    def _version(self) -> str:
        """Every setting that can change a verdict: server, model, template, sampling. A different version is
        a different judge (and cache). The URL's user:password part, if any, is left out."""
        config = self.config
        version = f"openai:{_public_url(config.base_url)}:{config.model}:{config.mode}"
        version += f":{self.template.name}@{self.template.hash[:12]}:temperature=0:seed={config.seed}"
        if config.mode == "logprob":
            version += f":top_logprobs={config.top_logprobs}"
        if config.mode == "reasoning" or config.rationale != "never":
            version += f":max_new_tokens={config.max_new_tokens}"
        if config.rationale != "never":
            version += f":rationale={config.rationale}@{self.rationale_template.hash[:12]}"
        return version

    @property
    def ledger(self):
        return self.client.ledger

    def check(self) -> dict:
        """Raise OpenAIClientError (naming the URL) unless the server answers GET /models."""
        return self.client.health()

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        logprob = self.config.mode == "logprob"
        requests = [self._request(self.template, it, logprob=logprob) for it in items]
        self.model_calls += len(requests)
        return [self._verdict(outcome, logprob) for outcome in self.client.chat_many(requests)]

    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        requests = [self._request(self.rationale_template, it, logprob=False) for it in items]
        self.model_calls += len(requests)
        return [o.text if isinstance(o, ChatResult) else None for o in self.client.chat_many(requests)]

    def _request(self, template, item: PairItem, *, logprob: bool) -> dict:
        messages, _prefix = template.render(question=item.question, answer_1=item.first, answer_2=item.second)
        request = {"messages": messages, "temperature": 0.0, "seed": self.config.seed}
        if logprob:
            request.update(max_tokens=1, logprobs=True, top_logprobs=self.config.top_logprobs)
        else:
            request.update(max_tokens=self.config.max_new_tokens)
        return request

    def _verdict(self, outcome: ChatResult | ChatError, logprob: bool) -> Verdict:
        if isinstance(outcome, ChatError):
            retryable = outcome.status is None or outcome.status in _RETRYABLE
            return Verdict.unscored(outcome.error, latency_s=outcome.latency_s, retryable=retryable)
        common: dict[str, Any] = dict(
            prompt_tokens=outcome.prompt_tokens,
            completion_tokens=outcome.completion_tokens,
            latency_s=outcome.latency_s,
            cost_usd=self.client.cost_of(outcome),
        )
        if logprob and outcome.logprobs:
            soft = soft_preference(outcome.logprobs[0])
            if soft is not None:
                soft_p, detail = soft
                return Verdict(
                    preference=soft_p, raw_output=json.dumps({"text": outcome.text, **detail}), **common
                )
        preference = parse_letter(outcome.text) if logprob else parse_bracket_verdict(outcome.text)
        rationale = None if logprob else outcome.text
        if preference is None:
            return Verdict.unscored(
                f"could not parse a verdict from the judge's output: {outcome.text[:200]!r}",
                raw_output=outcome.text,
                rationale=rationale,
                **common,
            )
        return Verdict(preference=preference, raw_output=outcome.text, rationale=rationale, **common)
