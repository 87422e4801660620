"""Scenario: agents see the subscribers' ratings in /stats (average by reason and by staff
member, last 30 days) and Done's photo with /status N (issue 19, items 3 and 4)."""

from __future__ import annotations

from tests.support_agents.agents import AGENT_ID, OUTSIDER_ID, World
from workflows.models import StaffMember

ALI = StaffMember(user_id=7001, name="Əli Məmmədov")
NIGAR = StaffMember(user_id=7002, name="Nigar Əliyeva")


async def rated(world: World, code: str, staff: StaffMember, stars: int) -> int:
    number = await world.submit(code)
    await world.services.work_orders.take(number, staff)
    await world.services.work_orders.complete(number, staff, "Sealed", "AgACphoto" + code)
    citizen = world.services.citizen
    assert (await citizen.confirm(number, OUTSIDER_ID, 0)).ok
    assert (await citizen.rate(number, OUTSIDER_ID, 0, stars)).ok
    return number


async def test_stats_average_ratings_by_reason_and_staff(world: World) -> None:
    await rated(world, "100001", ALI, 1)  # 40 days ago: out of the window
    world.advance(days=40)
    await rated(world, "100003", ALI, 4)
    await rated(world, "100004", NIGAR, 5)
    await rated(world, "100002", NIGAR, 2)  # the reason "returned"

    [text] = await world.person(AGENT_ID).send("/stats")

    lines = text.splitlines()
    assert "Subscribers' ratings by reason (last 30 days):" in lines
    assert "⭐ Temporary absence (travel, posting): 4.5 of 5 (2 rated)" in lines
    assert "⭐ I have returned: 2.0 of 5 (1 rated)" in lines
    assert "Subscribers' ratings by staff member (last 30 days):" in lines
    assert "⭐ Nigar Əliyeva: 3.5 of 5 (2 rated)" in lines
    assert "⭐ Əli Məmmədov: 4.0 of 5 (1 rated)" in lines


async def test_stats_without_ratings_says_so(world: World) -> None:
    [text] = await world.person(AGENT_ID).send("/stats")
    assert "No ratings in the last 30 days." in text.splitlines()


async def test_status_shows_the_photo_of_done(world: World) -> None:
    number = await rated(world, "100001", ALI, 4)
    start = len(world.session.requests)

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert "📷 with a photo (sent below)" in text
    assert "Rated by the subscriber" in text and "The subscriber confirmed the work" in text
    photos = [r for r in world.session.requests[start:] if type(r).__name__ == "SendPhoto"]
    assert [p.photo for p in photos] == ["AgACphoto100001"]
    assert f"Application №\u00a0{number}" in (photos[0].caption or "")
