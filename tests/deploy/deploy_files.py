"""Readers of the files in deploy/, for the tests that check them: nginx's
configuration language, Dockerfile instructions, systemd unit sections."""

from __future__ import annotations

import configparser
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx.conf"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "photochanger.service"

# --- nginx ---------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+')


@dataclass
class Block:
    """A block of nginx directives (`server { … }`), or the whole file."""

    name: str
    args: list[str]
    directives: list[tuple[str, list[str]]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def values(self, name: str) -> list[list[str]]:
        return [args for directive, args in self.directives if directive == name]

    def value(self, name: str) -> list[str]:
        (found,) = self.values(name)
        return found

    def children(self, name: str) -> list[Block]:
        return [block for block in self.blocks if block.name == name]


def parse_nginx(text: str) -> Block:
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    tokens = _TOKEN.findall("\n".join(lines))
    root = Block("main", [])
    stack = [root]
    words: list[str] = []
    for token in tokens:
        if token == "{":
            block = Block(words[0], words[1:])
            stack[-1].blocks.append(block)
            stack.append(block)
            words = []
        elif token == ";":
            stack[-1].directives.append((words[0], words[1:]))
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token.strip("'\""))
    assert len(stack) == 1, "unbalanced braces"
    assert not words, f"unterminated directive {words}"
    return root


def nginx_bytes(size: str) -> int:
    """`21m` → bytes, as nginx reads a size (k and m are powers of 1024)."""
    units = {"": 1, "k": 1024, "m": 1024 * 1024, "g": 1024**3}
    number, unit = re.fullmatch(r"(\d+)([kmgKMG]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * units[unit.lower()]


def nginx_seconds(time: str) -> float:
    units = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600}
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", time).groups()  # type: ignore[union-attr]
    return int(number) * units[unit or ""]


def tls_server(config: Block) -> Block:
    (server,) = [
        server
        for server in config.children("server")
        if any("ssl" in args for args in server.values("listen"))
    ]
    return server


# --- Dockerfile -----------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined, comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return found


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        assert result, "an instruction before the first FROM"
        result[-1].append(instruction)
    return result


def from_image(stage: list[Instruction]) -> tuple[str, str | None]:
    """A stage's base image and its name (`FROM image AS name`)."""
    words = shlex.split(stage[0].arguments)
    words = [word for word in words if not word.startswith("--platform")]
    name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
    return words[0], name


# --- systemd --------------------------------------------------------------------


def unit_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser
