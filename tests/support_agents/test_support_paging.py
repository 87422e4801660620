"""Scenario: a long answer comes in pages of at most 4,096 characters with Previous / Next
buttons; a press runs the query again and edits the message in place."""

from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.support.paging import PAGE_BUDGET, TELEGRAM_TEXT_LIMIT, Piece, SupportPageCD, paginate
from dialogs.wording import tg_len
from tests.inert import telegram_lines
from tests.support_agents.agents import AGENT_ID, FIN, OUTSIDER_ID, World


def fits(text: str) -> bool:
    return len(text) <= TELEGRAM_TEXT_LIMIT and tg_len(text) <= TELEGRAM_TEXT_LIMIT


async def many_applications(world: World, count: int) -> list[int]:
    numbers = []
    for i in range(count):
        number = await world.submit(str(100003 + i))
        await world.reject(number)
        world.advance(minutes=5)
        numbers.append(number)
    return numbers


async def test_find_pages_with_next_and_previous(world: World) -> None:
    numbers = await many_applications(world, 45)
    agent = world.person(AGENT_ID)

    [first] = await agent.send(f"/find {FIN}")

    assert first.splitlines()[0] == "<b>Applications for 5AB•••D: 45</b>"
    assert first.endswith("<i>Page 1 of 3</i>")
    assert f"№\u00a0{numbers[-1]} " in first and f"№\u00a0{numbers[-20]} " in first
    assert f"№\u00a0{numbers[-21]} " not in first
    message = world.last_message()
    buttons = [b for row in message.reply_markup.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["Next ▶"]
    assert SupportPageCD.unpack(buttons[0].callback_data) == SupportPageCD(
        cmd="f", page=1, arg=FIN
    )

    [second] = await agent.press("Next")
    [edit] = world.session.of("EditMessageText")
    assert edit.message_id == message.message_id
    assert second.endswith("<i>Page 2 of 3</i>")
    assert f"№\u00a0{numbers[-21]} " in second
    [third] = await agent.press("Next")
    assert third.endswith("<i>Page 3 of 3</i>")
    assert f"№\u00a0{numbers[0]} " in third
    buttons = [b.text for row in world.last_message().reply_markup.inline_keyboard for b in row]
    assert buttons == ["◀ Previous"]
    [back] = await agent.press("Previous")
    assert back == second
    assert all(fits(t) for t in (first, second, third))
    assert world.session.of("AnswerCallbackQuery")


async def test_a_long_application_is_split_without_losing_a_character(world: World) -> None:
    description = ("<&> " * 250)[:1000]  # 1,000 characters that escape to ~4,000
    notes = "é" * 1000
    number = await world.submit(description=description, notes=notes)
    world.advance(hours=72)  # the reason's deadline (absence: 72 h): overdue from now on
    for _ in range(30):
        world.advance(hours=2)
        await world.services.work_orders.remind_overdue(
            deadline=timedelta(hours=1), interval=timedelta(hours=1)
        )

    pages = await world.person(AGENT_ID).pages(f"/status {number}")

    assert len(pages) >= 3
    assert all(fits(p) for p in pages)
    assert all(p.startswith(f"<b>Application №\u00a0{number}</b>") for p in pages)
    plain = html.unescape(re.sub(r"<[^>]+>", "", "".join(pages)))
    joined = plain.replace("\n… ", "").replace("\n", "")
    assert description.replace(" ", "") in joined.replace(" ", "")
    assert notes in joined
    assert plain.count("Reminder: the work order is overdue") == 30


async def test_a_stale_page_number_shows_the_last_page(world: World) -> None:
    await many_applications(world, 21)
    agent = world.person(AGENT_ID)
    await agent.send(f"/find {FIN}")
    data = SupportPageCD(cmd="f", page=9, arg=FIN).pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Next ▶", callback_data=data)]]
    )
    stale = world.last_message().model_copy(update={"reply_markup": markup})

    [text] = await agent.press("Next", message=stale)

    assert text.endswith("<i>Page 2 of 2</i>")


async def test_a_non_agent_pressing_a_page_button_is_refused(world: World) -> None:
    await many_applications(world, 21)
    await world.person(AGENT_ID).send(f"/find {FIN}")
    message = world.last_message()
    # The same button, pressed in a subscriber's own chat (e.g. a crafted callback).
    foreign = message.model_copy(
        update={"chat": message.chat.model_copy(update={"id": OUTSIDER_ID})}
    )

    assert await world.person(OUTSIDER_ID).press("Next", message=foreign) == []

    [answer] = world.session.of("AnswerCallbackQuery")
    assert answer.show_alert and "only for Azersu support agents" in answer.text
    assert not world.session.of("EditMessageText")


async def test_pressing_the_same_page_twice_is_harmless(world: World) -> None:
    await many_applications(world, 21)
    agent = world.person(AGENT_ID)
    await agent.send(f"/find {FIN}")
    first = world.last_message()

    await agent.press("Next", message=first)
    await agent.press("Next", message=first)

    assert len(world.session.of("EditMessageText")) == 2
    assert len(world.session.of("AnswerCallbackQuery")) == 2


# --- the packer itself --------------------------------------------------------------------
def test_short_answers_are_one_page() -> None:
    assert paginate("<b>T</b>", [Piece(html="a"), Piece(html="b")]) == ["<b>T</b>\na\nb"]
    assert paginate("<b>T</b>", []) == ["<b>T</b>"]


def test_per_page_caps_the_lines() -> None:
    pages = paginate("H", [Piece(html=str(i)) for i in range(45)], per_page=20)

    assert [len(p.splitlines()) - 1 for p in pages] == [20, 20, 5]


@pytest.mark.parametrize("seed", range(20))
def test_random_pieces_always_fit_and_keep_every_character(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab &<>\u00e9\U0001f600"
    pieces = [
        Piece(
            html=f"<b>{i}:</b> ",
            tail="".join(rng.choice(alphabet) for _ in range(rng.choice([0, 5, 300, 5000]))),
        )
        for i in range(rng.randint(1, 12))
    ]

    pages = paginate("<b>Header</b>", pieces)

    assert all(tg_len(p) <= PAGE_BUDGET for p in pages)
    body = "".join(p.removeprefix("<b>Header</b>") for p in pages)
    plain = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\n… ", "").replace("\n", "")
    assert plain == "".join(f"{i}: {p.tail}" for i, p in enumerate(pieces))


@pytest.mark.parametrize("seed", range(20))
def test_quoted_pieces_stay_quoted_on_every_page(seed: int) -> None:
    """A quoted tail split between pages is quoted on each of them, and every page is HTML
    that Telegram accepts (blockquotes closed where the page ends)."""
    rng = random.Random(seed)
    pieces = []
    for i in range(rng.randint(1, 12)):
        quoted = rng.random() < 0.7
        alphabet = "ab &<>\u00e9\U0001f600" + ("\n" if quoted else "")
        tail = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 5, 300, 5000])))
        pieces.append(Piece(html=f"<b>{i}:</b>", tail=tail, quoted=quoted))

    pages = paginate("<b>Header</b>", pieces)

    assert all(tg_len(p) <= PAGE_BUDGET for p in pages)
    for page in pages:
        for line, quoted in telegram_lines(page):
            # Outside the quotes only the markup's lines (a header, a label, a continuation)
            # and blank ones.
            assert quoted or re.fullmatch(r"Header|\d+:.*|….*|", line.strip()), (line, page)
    body = "".join(p.removeprefix("<b>Header</b>") for p in pages)
    plain = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\n… ", "").replace("\n", "")
    assert plain == "".join(f"{i}:{p.tail}".replace("\n", "") for i, p in enumerate(pieces))
