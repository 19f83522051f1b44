"""`GET /api/slots` shows what each slot spent today (UTC) against its daily
budget, in the price table's currency (SPEC §10 "spend in view")."""

from __future__ import annotations

from datetime import timedelta

import httpx

from support import SessionFactory, configure_slot, insert_jobs, job_row, put_setting, utc_today


async def test_spent_today_and_budget_reached(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    midnight = await utc_today()
    await configure_slot(factory, "slot-001", daily_budget=1.5)
    await configure_slot(factory, "slot-002", daily_budget=2.0)
    await configure_slot(factory, "slot-005", daily_budget=0.0)
    await insert_jobs(
        factory,
        [
            job_row("booth", midnight, cost_micros=1_000_000),
            job_row("test-run", midnight, source="ui_test", cost_micros=500_000),
            job_row("unpriced", midnight + timedelta(seconds=1), cost_micros=None),
            job_row("yesterday", midnight - timedelta(microseconds=1), cost_micros=5_000_000),
            job_row("two", midnight, slot_id="slot-002", cost_micros=250_000),
            job_row("three", midnight, slot_id="slot-003", cost_micros=3_000_000),
        ],
    )

    response = await admin_client.get("/api/slots")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["currency"], body["spent_today"]) == ("USD", 4.75)
    slots = {slot["id"]: slot for slot in body["slots"]}

    def spend(slot_id: str) -> tuple[object, ...]:
        slot = slots[slot_id]
        return slot["daily_budget"], slot["spent_today"], slot["budget_reached"]

    # Test runs count against the budget; reaching it exactly is reaching it.
    assert spend("slot-001") == (1.5, 1.5, True)
    assert spend("slot-002") == (2.0, 0.25, False)
    assert spend("slot-003") == (None, 3.0, False)
    assert spend("slot-004") == (None, 0.0, False)
    # A budget of 0 allows no paid call at all, as the ingest decides it.
    assert spend("slot-005") == (0.0, 0.0, True)


async def test_the_saved_price_tables_currency(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "prices", {"currency": "EUR", "models": {}})
    body = (await admin_client.get("/api/slots")).json()
    assert (body["currency"], body["spent_today"]) == ("EUR", 0.0)


async def test_the_last_jobs_outcome_tells_a_degraded_answer_from_a_success(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    now = await utc_today() + timedelta(hours=1)
    await insert_jobs(
        factory,
        [
            job_row("old-success", now - timedelta(minutes=5)),
            job_row("newest-degraded", now, degraded_reason="provider_error:IMAGE_SAFETY"),
            job_row("plain", now, slot_id="slot-002"),
            job_row("broke", now, slot_id="slot-003", status="failed"),
        ],
    )
    slots = {slot["id"]: slot for slot in (await admin_client.get("/api/slots")).json()["slots"]}
    outcomes = {slot_id: slots[slot_id]["last_job_outcome"] for slot_id in slots}
    assert (outcomes["slot-001"], slots["slot-001"]["last_job_status"]) == ("degraded", "done")
    assert (outcomes["slot-002"], outcomes["slot-003"], outcomes["slot-004"]) == (
        "success",
        "failed",
        None,
    )
