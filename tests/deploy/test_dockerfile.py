"""deploy/Dockerfile, read instruction by instruction (no image is built here:
there is no registry to pull the base from): multi-stage, a pinned base, the
runtime stage as a non-root user with a HEALTHCHECK, and a build context that
holds what the COPY lines need."""

from __future__ import annotations

import json
import re
import tomllib

from deploy_files import (
    DEPLOY,
    DOCKERFILE,
    ROOT,
    Instruction,
    dockerfile_instructions,
    from_image,
    stages,
)

PINNED = re.compile(r"@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")


def runtime_stage() -> list[Instruction]:
    return stages(dockerfile_instructions(DOCKERFILE.read_text()))[-1]


def test_the_image_is_built_in_stages_from_a_pinned_base() -> None:
    built = stages(dockerfile_instructions(DOCKERFILE.read_text()))
    assert len(built) >= 2
    names = []
    for stage in built:
        image, name = from_image(stage)
        if image in names:
            continue  # FROM an earlier stage
        assert PINNED.search(image), f"{image} is not pinned to a digest or an exact version"
        names.append(name)
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = re.search(r">=(3\.\d+)", python).group(1)  # type: ignore[union-attr]
    assert all(from_image(stage)[0].startswith(f"python:{minor}.") for stage in built)

    # The runtime stage takes the build's result, not pip and its cache.
    runtime = runtime_stage()
    copies = [i.arguments for i in runtime if i.keyword == "COPY"]
    earlier = {name for _image, name in map(from_image, built[:-1]) if name}
    assert any(re.match(rf"--from=({'|'.join(earlier)})\s", copy) for copy in copies)
    assert not any("pip install" in i.arguments for i in runtime if i.keyword == "RUN")


def test_the_runtime_runs_as_a_user_and_checks_its_health() -> None:
    runtime = runtime_stage()
    users = [i.arguments for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # Nothing runs as root after the switch.
    after = runtime[[i.keyword for i in runtime].index("USER") :]
    assert not any(i.keyword == "RUN" for i in after)

    (healthcheck,) = [i.arguments for i in runtime if i.keyword == "HEALTHCHECK"]
    options, _, command = healthcheck.partition("CMD")
    assert "--interval=" in options
    assert "--timeout=" in options
    assert "/healthz" in command
    assert "127.0.0.1:8000" in command

    (cmd,) = [i.arguments for i in runtime if i.keyword == "CMD"]
    assert "photochanger serve --host 0.0.0.0 --port 8000" in " ".join(json.loads(cmd))
    assert any(i.keyword == "EXPOSE" and i.arguments == "8000" for i in runtime)


def test_the_build_context_holds_what_the_copies_need() -> None:
    """The context is the repository root, filtered by Dockerfile.dockerignore."""
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert "*" in ignore
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    for stage in stages(dockerfile_instructions(DOCKERFILE.read_text())):
        for instruction in stage:
            if instruction.keyword != "COPY" or instruction.arguments.startswith("--from"):
                continue
            *sources, _target = instruction.arguments.split()
            for source in sources:
                assert source in allowed, f"{source} is not in the build context"
                assert (ROOT / source).exists()


def test_the_reader_sees_continued_lines_and_stages() -> None:
    read = dockerfile_instructions(
        "# comment\nFROM a:1.2.3 AS one\nRUN x \\\n  # inside\n  && y\nFROM one\nUSER 1\n"
    )
    assert [(i.keyword, i.arguments) for i in read] == [
        ("FROM", "a:1.2.3 AS one"),
        ("RUN", "x && y"),
        ("FROM", "one"),
        ("USER", "1"),
    ]
    assert [len(stage) for stage in stages(read)] == [2, 2]
    assert not PINNED.search("python:3.11-slim")
    assert not PINNED.search("python:latest")
