"""How much the fuzzer runs: bounded inside `make test`, long under `make fuzz`.

- `PHOTOCHANGER_FUZZ_EXAMPLES`: generated examples per operation and pass in the
  fuzzing phase (default 8, which keeps tests/fuzz within its minute of `make
  test`; `make fuzz` sets 250). Schemathesis' explicit-example and coverage
  phases run as well, whatever the count.
- `PHOTOCHANGER_FUZZ_DATABASES`: the databases the fuzzed server runs on, comma
  separated (default `sqlite`; `make fuzz` adds `postgresql`).
- `PHOTOCHANGER_FUZZ_SEED`: the run's seed. The bounded run has a fixed one, so
  `make test` sends the same requests every time and never fails on a new find;
  a long run without one draws a fresh seed (printed by schemathesis on a
  failure, to replay it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

BOUNDED_EXAMPLES = 8
BOUNDED_SEED = 19


@dataclass(frozen=True)
class FuzzProfile:
    examples: int
    databases: tuple[str, ...]
    seed: int | None


def read_profile() -> FuzzProfile:
    examples = int(os.environ.get("PHOTOCHANGER_FUZZ_EXAMPLES", BOUNDED_EXAMPLES))
    databases = os.environ.get("PHOTOCHANGER_FUZZ_DATABASES", "sqlite")
    seed = os.environ.get("PHOTOCHANGER_FUZZ_SEED")
    return FuzzProfile(
        examples=examples,
        databases=tuple(name.strip() for name in databases.split(",") if name.strip()),
        seed=int(seed) if seed else (None if examples > BOUNDED_EXAMPLES else BOUNDED_SEED),
    )


PROFILE = read_profile()
