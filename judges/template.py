"""Judge prompt templates: text files under ``judges/templates/``, versioned by the sha256 of their bytes.

A template file has sections introduced by a line ``### system``, ``### user`` or ``### assistant``
(the assistant section, optional, is a prefix the model continues, e.g. ``Better response:``).
Placeholders are ``{{name}}``; pairwise templates use ``{{question}}``, ``{{answer_1}}`` (shown first)
and ``{{answer_2}}`` (shown second); the tagger uses ``{{question}}`` and ``{{categories}}``.

Substitution is a single pass, so model output that happens to contain ``{{answer_2}}`` is inserted
literally and never expanded: answers are untrusted text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_SECTION = re.compile(r"^### (system|user|assistant)[ \t]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{([a-z_0-9]+)\}\}")
KNOWN_PLACEHOLDERS = frozenset({"question", "answer_1", "answer_2", "categories", "reference"})


@dataclass(frozen=True)
class JudgeTemplate:
    name: str
    path: str
    text: str  # the file's content, exactly
    system: str | None
    user: str
    assistant_prefix: str

    @property
    def hash(self) -> str:
        """sha256 of the file content: the template's version."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall((self.system or "") + self.user + self.assistant_prefix))

    def render(self, **values: str) -> tuple[list[dict[str, str]], str]:
        """(chat messages, assistant prefix) with every placeholder filled, in one pass."""
        missing = sorted(self.placeholders - values.keys())
        if missing:
            raise KeyError(f"template {self.path} needs values for: {', '.join(missing)}")

        def fill(part: str) -> str:
            return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), part)

        messages = []
        if self.system:
            messages.append({"role": "system", "content": fill(self.system)})
        messages.append({"role": "user", "content": fill(self.user)})
        return messages, fill(self.assistant_prefix)


def parse_template(text: str, *, name: str, path: str) -> JudgeTemplate:
    """Split a template file into its sections; errors name the file, line and what would be valid."""
    sections: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    if not marks or text[: marks[0].start()].strip():
        raise ValueError(f"{path}:1: a template must start with a '### system' or '### user' line")
    for i, mark in enumerate(marks):
        role = mark.group(1)
        line = text.count("\n", 0, mark.start()) + 1
        if role in sections:
            raise ValueError(f"{path}:{line}: section '### {role}' appears twice")
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end]
        sections[role] = body[1:] if body.startswith("\n") else body
        sections[role] = sections[role].rstrip("\n") if role != "assistant" else sections[role].strip("\n")
    if "user" not in sections:
        raise ValueError(f"{path}: a template needs a '### user' section")
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in KNOWN_PLACEHOLDERS:
            line = text.count("\n", 0, match.start()) + 1
            raise ValueError(
                f"{path}:{line}: unknown placeholder {{{{{match.group(1)}}}}}; "
                f"valid: {', '.join(sorted(KNOWN_PLACEHOLDERS))}"
            )
    return JudgeTemplate(
        name=name,
        path=path,
        text=text,
        system=sections.get("system"),
        user=sections["user"],
        assistant_prefix=sections.get("assistant", ""),
    )


def load_template(name_or_path: str | Path) -> JudgeTemplate:
    """A template by name (a file ``judges/templates/NAME.txt``) or by path to any ``.txt`` file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".txt" or candidate.exists():
        path = candidate
    else:
        path = TEMPLATE_DIR / f"{name_or_path}.txt"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt")))
        raise FileNotFoundError(f"judge template {name_or_path!r} not found ({path}); built-in: {available}")
    return parse_template(path.read_text(encoding="utf-8"), name=path.stem, path=str(path))
