"""Prompts live in prompts/*.md; load them by name and render strictly."""

from __future__ import annotations

import functools
import string
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_PACKAGED = Path(__file__).resolve().parent / "prompts"


class PromptError(KeyError):
    """A prompt is missing or a variable was not supplied."""


@functools.cache
def load(name: str) -> str:
    """Text of prompts/<name>.md (the repository folder, or the copy packaged in the wheel)."""
    for folder in (PROMPTS_DIR, _PACKAGED):
        path = folder / f"{name}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise PromptError(f"prompt '{name}' not found in {PROMPTS_DIR}")


def render(name: str, **variables: str) -> str:
    """Fill `$variables` in a prompt; a missing or unused variable is an error."""
    template = string.Template(load(name))
    wanted = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)} - {None}
    missing = wanted - set(variables)
    extra = set(variables) - wanted
    if missing:
        raise PromptError(f"prompt '{name}' needs {', '.join(sorted(missing))}")
    if extra:
        raise PromptError(f"prompt '{name}' has no variable(s) {', '.join(sorted(extra))}")
    return template.substitute(variables)
