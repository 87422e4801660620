"""Unit tests of the sandbox's Telegram HTML parser and Bot API spec validation.

These pin the exact Telegram behaviours the end-to-end tests rely on: which HTML Telegram
refuses, UTF-16 entity offsets, and how form-encoded requests are decoded and checked.
"""

from __future__ import annotations

import json

import pytest

from sandbox.entities import entities_to_html
from sandbox.spec import ApiError, BotApiSpec
from sandbox.tghtml import EntityParseError, parse_html

SPEC = BotApiSpec.load()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("ə<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),  # byte, not char, offset
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<a href=x y>z</a>", "Expected equal sign"),
    ],
)
def test_invalid_html_is_refused_with_tdlib_wording(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert error in str(caught.value)


def test_html_parsing_gives_text_and_utf16_entities() -> None:
    parsed = parse_html(
        "😀 <b>Salam <i>dünya</i></b> &lt;3 &amp; &nbsp;<a href='https://a.az'>l</a>"
    )
    assert parsed.text == "😀 Salam dünya <3 & &nbsp;l"
    bold, italic, link = parsed.entities
    assert (bold["type"], bold["offset"], bold["length"]) == ("bold", 3, 11)  # 😀 is 2 units
    assert (italic["offset"], italic["length"]) == (9, 5)
    assert link == {"type": "text_link", "offset": 26, "length": 1, "url": "https://a.az"}
    html = entities_to_html(parsed.text, parsed.entities)
    assert (
        html == '😀 <b>Salam <i>dünya</i></b> &lt;3 &amp; &amp;nbsp;<a href="https://a.az">l</a>'
    )


def test_html_whitespace_is_trimmed_and_pre_code_merged() -> None:
    parsed = parse_html('  \n<pre><code class="language-python">x = 1</code></pre>\n ')
    assert parsed.text == "x = 1"
    assert parsed.entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    assert parse_html("<B>x</>").entities == [{"type": "bold", "offset": 0, "length": 1}]


def test_form_fields_are_decoded_by_type() -> None:
    parsed = SPEC.parse_request(
        "sendMessage",
        {
            "chat_id": "-1001000000001",
            "text": "123",  # a String stays a string even when it looks like a number
            "disable_notification": "true",
            "reply_markup": json.dumps({"inline_keyboard": [[{"text": "A", "url": "https://x"}]]}),
            "made_up": "1",
        },
    )
    assert parsed.params["chat_id"] == -1001000000001
    assert parsed.params["text"] == "123"
    assert parsed.params["disable_notification"] is True
    assert parsed.params["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://x"
    assert parsed.unknown == ["made_up"]
    assert SPEC.canonical("SENDMESSAGE") == "sendMessage"
    assert SPEC.canonical("sendTelepathy") is None


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": 1}, "Bad Request: message text is empty"),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"keyboard": [[{"text": 5}]]}},
            'Bad Request: can\'t parse keyboard button: Field "text" must be of type String',
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "x" * 33, "description": "d"}]},
            "Bad Request: BOT_COMMAND_INVALID",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "x", "description": "d"}], "scope": {"type": "nope"}},
            "unsupported type",
        ),
        ("editMessageText", {"chat_id": 1, "text": "x"}, "Bad Request: message_id is empty"),
        ("answerCallbackQuery", {}, "Bad Request: callback_query_id is empty"),
        ("setWebhook", {"url": "x", "secret_token": "s" * 257}, "secret_token"),
    ],
)
def test_invalid_requests_are_refused(
    method: str, params: dict[str, object], description: str
) -> None:
    with pytest.raises(ApiError) as caught:
        SPEC.parse_request(method, params)
    assert caught.value.code == 400
    assert description in caught.value.description


def test_keyboard_buttons_may_be_plain_strings_and_limits_hold() -> None:
    markup = {"keyboard": [["Yes", {"text": "Share", "request_contact": True}]]}
    parsed = SPEC.parse_request("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup})
    assert parsed.params["reply_markup"]["keyboard"][0][0] == "Yes"
    both = {"inline_keyboard": [[{"text": "A", "url": "https://x", "callback_data": "d"}]]}
    with pytest.raises(ApiError, match="only one of the fields"):
        SPEC.parse_request("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": both})
