"""The e-gov login end to end against the sandbox's OpenID provider (issue 16, item 2): the
real client (``bot.adapters.egov``), the bot's /auth routes, the pending logins in SQLite.

A login binds the FIN (a verification with method egov, an audit event, the Telegram message
owed); a bad, replayed or expired state, a token for another audience, one without the FIN
claim, one signed with another key, a FIN claim that is no FIN and a cancelled login are each
refused with a 400 page, and leave nothing bound.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_session_factory
from storage.repositories import SqlTransactionFactory
from tests.bot.egov_harness import ACCOUNT, BOT_URL, EgovWorld, egov_world
from workflows.clock import FixedClock
from workflows.ports import UserProfile

FIN = "5ABC12D"
NOTHING: list[tuple[object, ...]] = []


@pytest.fixture
async def world(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[EgovWorld]:
    async with egov_world(engine, clock) as w:
        yield w


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


async def at_callback(world: EgovWorld, *, fin: str = FIN) -> str:
    """The flow up to the provider's redirect back: the callback URL, not visited yet."""
    started = await world.start()
    assert started.status == 302 and started.location
    return await world.login_at_provider(started.location, fin=fin)


def assert_refused(page_status: int, text: str) -> None:
    assert page_status == 400, text
    assert "Traceback" not in text and "<h1>" in text


async def test_a_login_binds_the_fin_and_owes_the_account_a_message(world: EgovWorld) -> None:
    page = await world.log_in(fin=" 5abc 12d ")

    assert page.status == 200, page.text
    assert BOT_URL in page.text
    assert await world.rows("SELECT telegram_user_id, fin, method FROM verifications") == [
        (ACCOUNT, FIN, "egov")
    ]
    audit = await world.rows("SELECT actor, action, subject, detail FROM audit_log")
    assert audit == [(f"tg:{ACCOUNT}", "verified", f"tg:{ACCOUNT}", "egov")]
    outbox = await world.rows("SELECT kind, channel, recipient FROM outbox")
    assert outbox == [("egov_verified", "telegram", str(ACCOUNT))]
    assert world.outbox.wakes == 1
    # No FIN in the audit log, nor in the message owed (rendered when it is sent).
    assert FIN not in repr(audit + await world.rows("SELECT payload FROM outbox"))


async def test_the_pkce_challenge_state_and_nonce_go_to_the_provider(world: EgovWorld) -> None:
    started = await world.start()

    assert started.status == 302 and started.location
    query = parse_qs(urlsplit(started.location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{world.bot_url}/auth/callback"]
    (state,) = query["state"]
    rows = await world.rows(
        "SELECT state, telegram_user_id, code_verifier, nonce FROM oidc_states"
    )
    assert [(r[0], r[1]) for r in rows] == [(state, ACCOUNT)]
    assert query["nonce"] == [rows[0][3]]
    assert rows[0][2] not in started.location  # the verifier stays with the bot


async def test_a_bad_state_is_refused(world: EgovWorld) -> None:
    callback = await at_callback(world)

    page = await world.get(with_query(callback, state="not-a-state-the-bot-made"))

    assert_refused(page.status, page.text)
    assert await world.bound() == NOTHING
    assert world.idp.tokens_issued == 0


async def test_a_replayed_state_is_refused(world: EgovWorld) -> None:
    started = await world.start()
    assert started.location
    first = await world.login_at_provider(started.location)
    assert (await world.get(first)).status == 200
    bound = await world.bound()

    # The same callback again, and a fresh code sent back with the used state.
    again = await world.get(first)
    second = await world.login_at_provider(started.location)
    fresh = await world.get(second)

    assert_refused(again.status, again.text)
    assert_refused(fresh.status, fresh.text)
    assert await world.bound() == bound
    assert world.idp.tokens_issued == 1


async def test_an_expired_state_is_refused(world: EgovWorld, clock: FixedClock) -> None:
    started = await world.start()
    assert started.location
    clock.advance(timedelta(minutes=10, seconds=1))
    callback = await world.login_at_provider(started.location)

    page = await world.get(callback)

    assert_refused(page.status, page.text)
    assert await world.bound() == NOTHING
    assert world.idp.tokens_issued == 0


async def test_a_state_just_within_ten_minutes_is_taken(
    world: EgovWorld, clock: FixedClock
) -> None:
    started = await world.start()
    assert started.location
    clock.advance(timedelta(minutes=9, seconds=59))
    callback = await world.login_at_provider(started.location)

    assert (await world.get(callback)).status == 200


@pytest.mark.parametrize(
    "misbehaviour",
    ["audience", "no_fin", "foreign_key"],
    ids=["token-for-another-audience", "token-without-the-fin-claim", "bad-signature"],
)
async def test_a_wrong_id_token_is_refused(world: EgovWorld, misbehaviour: str) -> None:
    world.idp.misbehaviour = misbehaviour

    page = await world.log_in()

    assert_refused(page.status, page.text)
    assert world.idp.tokens_issued == 1
    assert await world.bound() == NOTHING


async def test_a_fin_claim_that_is_no_fin_is_refused(world: EgovWorld) -> None:
    page = await world.log_in(fin="5ABC1O")

    assert_refused(page.status, page.text)
    assert await world.bound() == NOTHING


async def test_a_login_cancelled_at_the_provider_binds_nothing(world: EgovWorld) -> None:
    started = await world.start()
    assert started.location
    callback = await world.login_at_provider(started.location, action="cancel")

    page = await world.get(callback)

    assert "error=access_denied" in callback
    assert_refused(page.status, page.text)
    assert await world.bound() == NOTHING
    # The state is used up: the same login cannot be finished later.
    assert (await world.rows("SELECT used_at IS NOT NULL FROM oidc_states")) == [(1,)]


async def test_a_rotated_provider_key_is_fetched_again(world: EgovWorld) -> None:
    assert (await world.log_in()).status == 200
    world.idp.rotate_key("sandbox-2")

    page = await world.log_in(account=ACCOUNT + 1)

    assert page.status == 200, page.text
    accounts = await world.rows("SELECT telegram_user_id FROM verifications ORDER BY 1")
    assert accounts == [(ACCOUNT,), (ACCOUNT + 1,)]


async def test_a_tampered_start_link_is_refused(world: EgovWorld) -> None:
    link = world.egov.link(ACCOUNT, ACCOUNT, "ru")
    token = parse_qs(urlsplit(link).query)["t"][0]
    account, chat, expires, locale, signature = token.split(".")
    assert locale == "ru"
    forged = [
        f"{ACCOUNT + 1}.{ACCOUNT + 1}.{expires}.{locale}.{signature}",  # another account
        f"{account}.{chat}.{int(expires) + 3600}.{locale}.{signature}",  # a later expiry
        f"{account}.{chat}.{expires}.az.{signature}",  # another language
        f"{account}.{chat}.{expires}.{locale}.{signature[:-2]}AA",  # another signature
        f"{account}.{chat}.{expires}.{signature}",
        "",
    ]

    for token in forged:
        page = await world.get(with_query(link, t=token))
        assert_refused(page.status, page.text)
    assert await world.rows("SELECT * FROM oidc_states") == NOTHING


async def test_an_expired_start_link_is_refused(world: EgovWorld, clock: FixedClock) -> None:
    link = world.egov.link(ACCOUNT, ACCOUNT)
    clock.advance(timedelta(minutes=10))

    page = await world.start(link=link)

    assert_refused(page.status, page.text)
    assert await world.rows("SELECT * FROM oidc_states") == NOTHING


async def test_the_language_is_the_accounts_else_the_links_else_the_browsers(
    world: EgovWorld, engine: AsyncEngine, clock: FixedClock
) -> None:
    # The link shown in Russian to an account that chose no language: the page and the
    # message owed are Russian, even to a browser that prefers English.
    link = world.egov.link(ACCOUNT, ACCOUNT, "ru")
    started = await world.get(link, **{"Accept-Language": "en"})
    assert started.location
    done = await world.get(await world.login_at_provider(started.location))
    assert done.status == 200 and '<html lang="ru">' in done.text
    assert re.search("[а-я]", done.text)
    assert await world.rows("SELECT payload FROM outbox") == [('{"locale": "ru"}',)]

    # A language the account chose wins over the link's.
    transactions = SqlTransactionFactory(create_session_factory(engine))
    async with transactions() as uow:
        await uow.profiles.save(UserProfile(ACCOUNT + 1, locale="en"), clock.now())
        await uow.commit()
    world.browser.cookie_jar.clear()
    started = await world.get(world.egov.link(ACCOUNT + 1, ACCOUNT + 1, "az"))
    assert started.location
    chosen = await world.get(await world.login_at_provider(started.location))
    assert '<html lang="en">' in chosen.text

    # Without a link's language (a refusal before any state), the browser's, else az.
    world.browser.cookie_jar.clear()
    refused = await world.get(
        f"{world.bot_url}/auth/callback?state=x&code=y",
        **{"Accept-Language": "de-DE, en;q=0.8, ru;q=0.9"},
    )
    assert refused.status == 400 and '<html lang="ru">' in refused.text
    default = await world.get(f"{world.bot_url}/auth/callback?state=x")
    assert '<html lang="az">' in default.text


async def test_old_pending_logins_are_purged_at_the_next_start(
    world: EgovWorld, clock: FixedClock
) -> None:
    await world.start()
    clock.advance(timedelta(hours=2))

    await world.start()

    assert len(await world.rows("SELECT state FROM oidc_states")) == 1


async def test_the_log_holds_ids_and_reasons_never_a_fin_code_or_state(
    world: EgovWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await world.log_in()
    world.idp.misbehaviour = "audience"
    await world.log_in(fin="7KQ2M9X")

    # The provider's own server (aiohttp's default access log) is not the bot's.
    ours = [r for r in caplog.records if not r.pathname.endswith("web_log.py")]
    lines = "\n".join(r.getMessage() for r in ours if r.levelno >= logging.INFO)
    secrets = [FIN, "7KQ2M9X"]
    for url in world.visited:
        query = parse_qs(urlsplit(url).query)
        secrets += [v[0] for k, v in query.items() if k in ("code", "state", "t", "nonce")]
    assert f"e-gov login of {ACCOUNT} refused: audience" in lines
    assert [s for s in secrets if s in lines] == []
