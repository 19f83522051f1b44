"""Mutated booth bodies (`mutations.py`) through the real app in-process: every
answer is a documented one in SPEC §3.2's shape (or a photo), never a 500;
no job stays `pending`, no file is left behind.

The run in the suite is small and the same every time (`derandomize`; no
example database, and Hypothesis's caches kept out of the tree). `PHOTOCHANGER_HOSTILE_EXAMPLES`
asks for more, and a fresh random draw each run (for `make fuzz`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import count

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, event, given, settings
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

from hostile.corpus import Answer
from hostile.invariants import IMAGE_TYPES, check_error_shape, check_nothing_left
from hostile.mutations import HostileRequest, hostile_requests
from photochanger.config import Settings
from support import SessionFactory, configure_slot, echo

EXAMPLES_VARIABLE = "PHOTOCHANGER_HOSTILE_EXAMPLES"
BOUNDED_EXAMPLES = 200
EXAMPLES = int(os.environ.get(EXAMPLES_VARIABLE) or BOUNDED_EXAMPLES)

_clients = count(1)


@pytest.fixture
def hypothesis_outside_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis keeps caches (constants found in the source, Unicode tables)
    in `.hypothesis` in the working directory, even without an example
    database: for this run, in pytest's temp directory."""
    saved = storage_directory(intent_to_write=False).home_directory
    set_hypothesis_home_dir(tmp_path_factory.getbasetemp() / "hypothesis")
    yield
    set_hypothesis_home_dir(saved)


@pytest.fixture
async def echo_slot(factory: SessionFactory) -> None:
    await configure_slot(factory, "slot-001", **echo())


async def post(app: FastAPI, hostile: HostileRequest) -> Answer:
    # A client address of its own per example: ten wrong passwords from one
    # address would lock it out (429), and the rest of the run would test that.
    number = next(_clients)
    transport = httpx.ASGITransport(app=app, client=(f"10.9.{number // 250}.{number % 250}", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as client:
        response = await client.post(
            "/api/ingest/slot-001",
            content=hostile.body,
            headers={"content-type": hostile.content_type},
        )
    return Answer(response.status_code, dict(response.headers), response.content)


@pytest.mark.usefixtures("hypothesis_outside_the_tree", "echo_slot")
@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
@settings(
    max_examples=EXAMPLES,
    derandomize=EXAMPLES == BOUNDED_EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app for the run: what it keeps is checked
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(hostile=hostile_requests())
async def test_mutated_booth_bodies_get_documented_answers(
    app: FastAPI, factory: SessionFactory, config: Settings, hostile: HostileRequest
) -> None:
    answer = await post(app, hostile)
    event(f"answered {answer.status}")  # --hypothesis-show-statistics
    assert answer.status != 500, answer.body
    if answer.status == 200:
        assert answer.headers["content-type"] in IMAGE_TYPES
    else:
        check_error_shape(answer)
    await check_nothing_left(factory, config)
