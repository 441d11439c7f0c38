"""A real OpenAI-compatible HTTP server with scripted, deterministic answers, for tests.

Run: ``python tests/openai_stub_server.py --port P [--fail-first N --fail-status 429] [--script rules.json]``

Endpoints: ``GET /v1/models``, ``GET /health``, ``GET /stats`` (request counts and the most requests
seen in flight at once), ``POST /v1/chat/completions`` (honours ``max_tokens``, ``logprobs``,
``top_logprobs``, ``seed``).

Answers. A script (JSON list of rules) is tried in order against the concatenated message contents;
the first rule whose ``contains`` string occurs wins. A rule may give:
  ``reply``          the answer text (tokens are the text split at spaces, each space kept in front);
  ``top_logprobs``   ``{token: logprob}`` alternatives for the FIRST token (e.g. {"A": -1.2, "B": -0.4});
  ``status``         answer with this HTTP error status instead (e.g. 400);
  ``no_logprobs``    true: omit logprobs even when asked (a server without logprob support);
  ``finish_reason``  answer with this finish reason (e.g. "content_filter");
  ``empty_choices``  true: answer 200 with an empty ``choices`` list;
  ``malformed``      true: answer 200 with a body that is not JSON.
Without a matching rule the answer is a deterministic pseudo-text derived from the messages and the
seed, cut at ``max_tokens`` words (finish_reason ``length``) or ended (``stop``).
``--fail-first N --fail-status S`` answers the first N chat requests with status S (then normally), with
``Retry-After: --retry-after`` (default 0); ``--no-logprobs`` ignores logprobs for every request (as
``transformers serve`` does); ``--served-model`` is the name ``/v1/models`` lists (default ``--model``).
``/stats`` also gives the arrival times (monotonic seconds) of the first and last chat requests;
``--delay S`` sleeps S seconds per chat request (to observe concurrency); ``--require-key K`` answers
401 unless ``Authorization: Bearer K``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_WORDS = [
    "the",
    "answer",
    "is",
    "that",
    "we",
    "consider",
    "each",
    "part",
    "carefully",
    "and",
    "then",
    "give",
    "a",
    "short",
    "clear",
    "result",
    "because",
    "models",
    "should",
    "be",
    "helpful",
    "honest",
    "and",
    "harmless",
    "in",
    "every",
    "reply",
    "they",
    "write",
]


class _State:
    def __init__(self, args: argparse.Namespace, rules: list[dict[str, Any]]) -> None:
        self.args = args
        self.rules = rules
        self.lock = threading.Lock()
        self.chat_requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.failed_on_purpose = 0
        self.first_at: float | None = None
        self.last_at: float | None = None


def _tokens(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words) if w or i == 0]


def _pseudo_reply(messages: list[dict[str, Any]], seed: int, max_tokens: int) -> tuple[str, str]:
    digest = hashlib.sha256((json.dumps(messages, sort_keys=True) + f"|{seed}").encode()).digest()
    n_words = 8 + digest[0] % 24
    words = [_WORDS[digest[(i + 1) % len(digest)] % len(_WORDS)] for i in range(n_words)]
    finish = "stop"
    if n_words > max_tokens:
        words, finish = words[:max_tokens], "length"
    return " ".join(words), finish


def _logprob_block(
    tokens: list[str], first_alternatives: dict[str, float] | None, top_n: int
) -> dict[str, Any]:
    content = []
    for i, token in enumerate(tokens):
        if i == 0 and first_alternatives:
            alternatives = dict(first_alternatives)
            alternatives.setdefault(token, max(alternatives.values()))
        else:
            alternatives = {token: -0.05, " the": -3.5, " a": -4.0, ".": -4.5}
            alternatives[token] = -0.05
        ranked = sorted(alternatives.items(), key=lambda kv: -kv[1])
        content.append(
            {
                "token": token,
                "logprob": alternatives[token],
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in ranked[:top_n]
                ],
            }
        )
    return {"content": content}


class _Handler(BaseHTTPRequestHandler):
    server_version = "openai-stub/1"
    state: _State  # set on the subclass built in main()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        # A request stops being in flight before its answer is written: once the client can read the
        # answer it may send its next request, and counting both would overstate the concurrency.
        self._leave_flight()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _send_raw(self, status: int, body: bytes) -> None:
        self._leave_flight()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.state
        if self.path in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
        elif self.path == "/v1/models":
            served = state.args.served_model or state.args.model
            self._send(200, {"object": "list", "data": [{"id": served, "object": "model"}]})
        elif self.path == "/stats":
            with state.lock:
                self._send(
                    200,
                    {
                        "chat_requests": state.chat_requests,
                        "max_in_flight": state.max_in_flight,
                        "failed_on_purpose": state.failed_on_purpose,
                        "first_at": state.first_at,
                        "last_at": state.last_at,
                    },
                )
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        state = self.state
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        with state.lock:
            state.chat_requests += 1
            number = state.chat_requests
            state.last_at = time.monotonic()
            state.first_at = state.first_at if state.first_at is not None else state.last_at
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            self._in_flight = True
        try:
            if state.args.delay:
                time.sleep(state.args.delay)
            self._answer(body, number)
        finally:
            self._leave_flight()

    def _leave_flight(self) -> None:
        if getattr(self, "_in_flight", False):
            with self.state.lock:
                self.state.in_flight -= 1
            self._in_flight = False

    def _answer(self, body: dict[str, Any], number: int) -> None:
        state = self.state
        args = state.args
        if args.require_key and self.headers.get("Authorization") != f"Bearer {args.require_key}":
            self._send(401, {"error": {"message": "invalid api key"}})
            return
        if number <= args.fail_first:
            with state.lock:
                state.failed_on_purpose += 1
            self._send(
                args.fail_status,
                {"error": {"message": f"scripted failure {number}"}},
                {"Retry-After": str(args.retry_after)},
            )
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send(400, {"error": {"message": "messages must be a non-empty list"}})
            return
        joined = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)
        seed = int(body.get("seed") or 0)
        rule = next((r for r in state.rules if r.get("contains", "") in joined), None)
        if rule is not None and rule.get("status"):
            self._send(int(rule["status"]), {"error": {"message": f"scripted status {rule['status']}"}})
            return
        if rule is not None and rule.get("malformed"):
            self._send_raw(200, b'{"choices": [{"message": ')
            return
        alternatives = None
        if rule is not None:
            text = str(rule.get("reply", ""))
            toks = _tokens(text)
            finish = "stop"
            if len(toks) > max_tokens:
                toks, finish = toks[:max_tokens], "length"
                text = "".join(toks)
            alternatives = rule.get("top_logprobs")
        else:
            text, finish = _pseudo_reply(messages, seed, max_tokens)
            toks = _tokens(text)
        rule = rule or {}
        finish = rule.get("finish_reason", finish)
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
        }
        if body.get("logprobs") and not rule.get("no_logprobs") and not args.no_logprobs:
            top_n = int(body.get("top_logprobs") or 1)
            choice["logprobs"] = _logprob_block(toks, alternatives, max(1, top_n))
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
        self._send(
            200,
            {
                "id": f"chatcmpl-stub-{number}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", args.model),
                "choices": [] if rule.get("empty_choices") else [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(toks),
                    "total_tokens": prompt_tokens + len(toks),
                },
            },
        )


def free_port() -> int:
    """A localhost port that was free a moment ago."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_stub(*extra_args: str, rules: list[dict[str, Any]] | None = None, tmp_dir: str | None = None):
    """Start this server as a real subprocess on a free port; yield its base URL (``.../v1``).

    ``rules`` are written to a JSON file under ``tmp_dir`` (required with rules) and passed as --script.
    The process is stopped (by its own pid) when the block ends.
    """
    import os
    import subprocess
    import sys

    import httpx

    port = free_port()
    cmd = [sys.executable, os.path.abspath(__file__), "--port", str(port), *extra_args]
    if rules is not None:
        if tmp_dir is None:
            raise ValueError("running_stub(rules=...) needs tmp_dir for the script file")
        script = os.path.join(tmp_dir, f"stub-rules-{port}.json")
        with open(script, "w", encoding="utf-8") as fh:
            json.dump(rules, fh)
        cmd += ["--script", script]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"stub server exited early: {proc.stderr.read().decode()[-500:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("stub server did not come up within 20 s")
            time.sleep(0.05)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model", default="stub-model")
    parser.add_argument("--script", default=None, help="JSON file with a list of rules")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--require-key", default=None)
    parser.add_argument("--retry-after", default="0")
    parser.add_argument("--no-logprobs", action="store_true")
    parser.add_argument("--served-model", default=None)
    args = parser.parse_args(argv)
    rules: list[dict[str, Any]] = []
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            rules = json.load(fh)
        if not isinstance(rules, list):
            raise SystemExit(f"{args.script}: expected a JSON list of rules")
    for rule in rules:
        for lp in (rule.get("top_logprobs") or {}).values():
            if not (isinstance(lp, (int, float)) and lp <= 0 and math.isfinite(lp)):
                raise SystemExit(f"{args.script}: top_logprobs values must be finite and <= 0, got {lp!r}")
    handler = type("Handler", (_Handler,), {"state": _State(args, rules)})
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    print(f"openai stub listening on http://{args.host}:{args.port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
