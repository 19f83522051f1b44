"""The booth's photos and real ids through the fuzzed server. The passes of
test_openapi_fuzz.py rarely get past the ingest password or the image check, and
never guess a slot, job or template id, so the pipeline, its 200 answers (the
image, `X-Job-Id`, `X-Result-Url`) and the answers about things that exist would
never meet the document. Here an ingest or a test run carries a real photo, the
ingest password in force and a real slot, every other field as generated (the
booth's metadata, `hash`, a test run's `slot_payload`); and every route with a
slot, job or template id in its path is sent real ids as well as generated ones.

Schemathesis runs a test that draws values of its own (`@given`) in its
fuzzing phase only, so these add to the passes of test_openapi_fuzz.py and
replace none of them."""

from __future__ import annotations

from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from schemathesis import Case

from fuzz.document import FUZZING_SCHEMA, only
from fuzz.sending import AdminBearer, send
from fuzz.target import BOOTH_PHOTOS, SLOT_IDS, FuzzTarget

WITHOUT_REAL_IDS = r"^(?!.*\{(slot_id|job_id|template_id)\})"
"""Paths without a slot, job or template id (left out below; not `include`, see
`document.only`)."""


def with_photo(case: Case, data: st.DataObject, field: str) -> dict[str, Any]:
    """The case's form with a real photo in `field`, sent to a real slot."""
    assume(isinstance(case.body, dict))
    assert isinstance(case.body, dict)
    slot_id = data.draw(st.sampled_from(SLOT_IDS))
    case.path_parameters = {**(case.path_parameters or {}), "slot_id": slot_id}
    case.body[field] = data.draw(st.sampled_from(BOOTH_PHOTOS))
    return case.body


@only(FUZZING_SCHEMA, "POST /api/ingest/{slot_id}").parametrize()
@FUZZING_SCHEMA.given(data=st.data())
def test_booth(case: Case, data: st.DataObject, fuzz_target: FuzzTarget) -> None:
    body = with_photo(case, data, "fileToUpload")
    body["password"] = fuzz_target.ingest_password()
    send(case, fuzz_target)


@only(FUZZING_SCHEMA, "POST /api/slots/{slot_id}/test-run").parametrize()
@FUZZING_SCHEMA.given(data=st.data())
@FUZZING_SCHEMA.auth(AdminBearer, refresh_interval=None)
def test_admin_test_run(case: Case, data: st.DataObject, fuzz_target: FuzzTarget) -> None:
    body = with_photo(case, data, "test_image")
    if data.draw(st.booleans()):
        body.pop("slot_payload", None)
    send(case, fuzz_target)


@FUZZING_SCHEMA.exclude(path_regex=WITHOUT_REAL_IDS).parametrize()
@FUZZING_SCHEMA.given(data=st.data())
@FUZZING_SCHEMA.auth(AdminBearer, refresh_interval=None)
def test_real_ids(case: Case, data: st.DataObject, fuzz_target: FuzzTarget) -> None:
    real = {
        name: data.draw(st.sampled_from(ids))
        for name, ids in fuzz_target.real_ids.items()
        if name in (case.path_parameters or {}) and data.draw(st.booleans())
    }
    case.path_parameters = {**(case.path_parameters or {}), **real}
    send(case, fuzz_target)
