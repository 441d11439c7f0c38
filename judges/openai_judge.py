"""OpenAI-compatible judge: a model behind vLLM, SGLang, TGI or a hosted API.

Logprob mode first probes the server once per (server, model) and process: one 1-token request asking
for ``logprobs``. A server that ignores them (``transformers serve`` does, with a warning in its log) or
refuses them (an HTTP 400) gets text verdicts instead: the same question, the letter parsed from up to
``TEXT_VERDICT_TOKENS`` tokens of answer. The judge version records which of the two produced the
verdicts (``verdicts=logprob`` or ``verdicts=text``), so they never share a cache or a table row.

With logprobs honoured, the judge asks for ONE token with ``logprobs`` and ``top_logprobs``; the soft preference is
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
import threading
from collections.abc import Sequence
from typing import Any, Literal

from judges.config import OpenAIJudgeConfig
from judges.llm_judge import parse_bracket_verdict
from judges.protocol import JudgeDefaults, PairItem, Rationale
from judges.template import load_template
from judges.verdict import Verdict
from rlhf.budget import BudgetExhausted
from rlhf.openai_client import ChatError, ChatResult, OpenAIClient, OpenAIClientError

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
TEXT_VERDICT_TOKENS = 4  # text verdicts: enough for "**B**" or " B." in most vocabularies
VerdictSource = Literal["logprob", "text"]

# What each (server, model, top_logprobs) answered to the logprob probe in this process: the server does not
# change its support between two judges of one run, and probing again would cost a request per judge object.
_PROBED: dict[tuple[str, str, int], VerdictSource] = {}
_PROBED_LOCK = threading.Lock()


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


class OpenAIJudge(JudgeDefaults):
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
            requests_per_min=config.requests_per_min,
            tokens_per_min=config.tokens_per_min,
            budget_usd=config.budget_usd,
        )
        self.template = load_template(config.template)
        self.rationale_template = load_template(config.rationale_template)
        self.judge_id = config.name
        # reasoning mode: the verdict carries its reasoning already
        self.rationale: Rationale = "never" if config.mode == "reasoning" else config.rationale
        self.template_hash = self.template.hash
        self.model_calls = 0
        self._source: VerdictSource | None = None if config.mode == "logprob" else "text"

    @property
    def judge_version(self) -> str:
        """The version of the verdicts this judge makes; in logprob mode it probes the server first."""
        return self.version_for(self.verdict_source())

    def version_for(self, source: VerdictSource) -> str:
        """Every setting that can change a verdict: server, model, template, sampling, and (logprob mode) what
        the verdicts are read from. A different version is a different judge (and cache). The URL's
        user:password part, if any, is left out."""
        config = self.config
        version = f"openai:{_public_url(config.base_url)}:{config.model}:{config.mode}"
        version += f":{self.template.name}@{self.template.hash[:12]}:temperature=0:seed={config.seed}"
        if config.mode == "logprob":
            version += f":top_logprobs={config.top_logprobs}:verdicts={source}"
            if source == "text":
                version += f":max_tokens={TEXT_VERDICT_TOKENS}"
        if config.mode == "reasoning" or config.rationale != "never":
            version += f":max_new_tokens={config.max_new_tokens}"
        if config.rationale != "never":
            version += f":rationale={config.rationale}@{self.rationale_template.hash[:12]}"
        return version

    @property
    def ledger(self):
        return self.client.ledger

    def check(self) -> dict:
        """Raise OpenAIClientError (naming the URL) unless the server answers GET /models and serves the
        configured model; in logprob mode, probe whether it returns log-probabilities."""
        health = self.client.health()
        if self.config.model not in health["models"]:
            served = ", ".join(repr(m) for m in health["models"]) or "none"
            raise OpenAIClientError(
                f"{health['url']} does not serve model {self.config.model!r} (judge {self.judge_id}); "
                f"it serves: {served}. Set model: to one of them."
            )
        self.verdict_source()
        return health

    def verdict_source(self) -> VerdictSource:
        """``logprob`` when the server returns log-probabilities (probed once per server and model), else
        ``text``; always ``text`` in reasoning mode."""
        if self._source is None:
            key = (_public_url(self.config.base_url), self.config.model, self.config.top_logprobs)
            with _PROBED_LOCK:
                known = _PROBED.get(key)
            if known is None:
                known = self._probe()
                with _PROBED_LOCK:
                    _PROBED[key] = known
            self._source = known
        return self._source

    def _probe(self) -> VerdictSource:
        request = {
            "messages": [{"role": "user", "content": "Answer with one letter, A or B: which comes first?"}],
            "temperature": 0.0,
            "max_tokens": 1,
            "logprobs": True,
            "top_logprobs": self.config.top_logprobs,
        }
        outcome = self.client.chat(request)
        if isinstance(outcome, ChatResult):
            return "logprob" if outcome.logprobs else "text"
        if outcome.status is not None and 400 <= outcome.status < 500 and outcome.status != 429:
            return "text"  # the server refuses logprobs (or this many top_logprobs)
        raise OpenAIClientError(f"judge {self.judge_id}: the logprob probe failed: {outcome.error}")

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        if self.client.budget_exhausted and self.client.budget is not None:
            raise BudgetExhausted(self.client.budget.message())
        logprob = self.verdict_source() == "logprob"
        requests = [self._request(self.template, it, logprob=logprob) for it in items]
        self.model_calls += len(requests)
        return [self._verdict(outcome, logprob) for outcome in self.client.chat_many(requests)]

    def estimate(self, items: Sequence[PairItem]) -> tuple[int, int, float]:
        """(prompt tokens, completion tokens, USD) the requests for ``items`` may cost (``rlhf.budget``)."""
        logprob = self.verdict_source() == "logprob"
        prompt = completion = 0
        for item in items:
            p, c = self.client.estimate(self._request(self.template, item, logprob=logprob))
            prompt, completion = prompt + p, completion + c
        return prompt, completion, self.client.prices.cost(prompt, completion)

    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        requests = [self._request(self.rationale_template, it, logprob=False) for it in items]
        self.model_calls += len(requests)
        return [o.text if isinstance(o, ChatResult) else None for o in self.client.chat_many(requests)]

    def _request(self, template, item: PairItem, *, logprob: bool) -> dict:
        messages, _prefix = template.render(question=item.question, answer_1=item.first, answer_2=item.second)
        request = {"messages": messages, "temperature": 0.0, "seed": self.config.seed}
        if logprob:
            request.update(max_tokens=1, logprobs=True, top_logprobs=self.config.top_logprobs)
        elif self.config.mode == "logprob" and template is self.template:
            request.update(max_tokens=TEXT_VERDICT_TOKENS)  # text verdicts: the server gives no logprobs
        else:
            request.update(max_tokens=self.config.max_new_tokens)
        return request

    def _verdict(self, outcome: ChatResult | ChatError, logprob: bool) -> Verdict:
        if isinstance(outcome, ChatError):
            retryable = outcome.status is None or outcome.status in _RETRYABLE
            return Verdict.unscored(
                outcome.error, latency_s=outcome.latency_s, retryable=retryable, retries=outcome.retries
            )
        common: dict[str, Any] = dict(
            retries=outcome.retries,
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
        letter = self.config.mode == "logprob"  # a bare letter was asked for, whatever it is read from
        preference = parse_letter(outcome.text) if letter else parse_bracket_verdict(outcome.text)
        rationale = None if letter else outcome.text
        if preference is None:
            return Verdict.unscored(
                f"could not parse a verdict from the judge's output: {outcome.text[:200]!r}",
                raw_output=outcome.text,
                rationale=rationale,
                **common,
            )
        return Verdict(preference=preference, raw_output=outcome.text, rationale=rationale, **common)
