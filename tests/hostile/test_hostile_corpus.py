"""Every case of the fixed corpus through the real app in-process: its
documented answer, never a 500, and nothing left behind after it."""

from __future__ import annotations

import httpx
import pytest

from hostile.corpus import IN_PROCESS_CORPUS, Answer, HostileCase
from hostile.invariants import check_answer, check_nothing_left
from hostile.wire_corpus import WIRE_CORPUS
from photochanger.config import Settings
from support import SessionFactory, configure_slot, echo


async def send(client: httpx.AsyncClient, case: HostileCase) -> Answer:
    headers = {"content-type": case.content_type} if case.content_type is not None else {}
    response = await client.post(f"/api/ingest/{case.slot}", content=case.body(), headers=headers)
    return Answer(response.status_code, dict(response.headers), response.content)


def test_case_names_are_unique() -> None:
    names = [case.name for case in IN_PROCESS_CORPUS] + [case.name for case in WIRE_CORPUS]
    assert len(names) == len(set(names))


@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")  # the looping EXIF
async def test_every_hostile_body_gets_its_documented_answer(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    failures: list[str] = []
    for case in IN_PROCESS_CORPUS:
        try:
            answer = await send(client, case)
            check_answer(answer, case.status, case.failure_reason)
            if case.check is not None:
                case.check(answer)
            await check_nothing_left(factory, config)
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
    if failures:
        pytest.fail("\n".join(failures))
