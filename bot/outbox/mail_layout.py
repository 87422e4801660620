"""The e-mail's two parts, laid out from one :class:`~bot.outbox.mail_content.MailContent`.

The HTML is one column in the manner mail clients understand: tables for the layout, every
style inline, no images, scripts, fonts or stylesheets fetched from anywhere. It declares
``color-scheme: light dark``; clients that honour ``prefers-color-scheme`` get the dark
palette of the ``<style>`` block, the others recolour the light one themselves (its brand bar
reads on either background). Every piece of text is escaped here, the staff's
note included: it stands in a ``<blockquote>`` (``> `` lines in the plain text), so no line of
it passes for a line of the e-mail.
"""

from __future__ import annotations

import html

from bot.outbox.mail_content import MailContent, Sentence

FONT = "font-family:Arial,Helvetica,sans-serif;"
# Light palette (inline); the dark one is in DARK_CSS, keyed by class.
PAGE_BG = "#eef3f6"
CARD_BG = "#ffffff"
TEXT = "#1b2a33"
MUTED = "#55656f"
BORDER = "#d5e0e7"
BRAND = "#0a5c8a"
LINK = "#0a5c8a"
QUOTE_BG = "#f1f6f9"
QUOTE_BAR = "#4d8fb5"

DARK_CSS = """
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .page { background-color: #0f1a20 !important; }
  .card { background-color: #17242c !important; border-color: #2a3a44 !important; }
  .text { color: #e4ecf1 !important; }
  .muted { color: #a9bac5 !important; border-color: #2a3a44 !important; }
  .quote { background-color: #1f313b !important; border-color: #4f9cc7 !important; }
  .link { color: #7cc4ee !important; }
}
""".strip()


def e(value: str) -> str:
    return html.escape(value, quote=True)


def plain_text(mail: MailContent) -> str:
    """The ``text/plain`` part: the same words as the HTML, in the same order."""
    lines = [
        mail.brand,
        _plain(mail.title),
        "",
        mail.greeting,
        "",
        mail.headline,
        mail.what,
    ]
    if mail.note_label is not None:
        lines += ["", mail.note_label, *(f"> {line}".rstrip() for line in mail.note_lines)]
    lines += ["", *(f"{label}: {value}" for label, value in mail.facts)]
    lines += ["", mail.how, *(f"- {_plain(way)}" for way in mail.ways)]
    lines += ["", mail.next_label, _plain(mail.next_step)]
    lines += ["", mail.thanks, mail.signature]
    # "-- " starts a signature block: mail clients grey out (or fold) what follows.
    lines += ["", "-- ", _plain(mail.footer), ""]
    return "\n".join(lines)


def _plain(sentence: Sentence) -> str:
    return sentence.template.format(**{k: link.label for k, link in sentence.links.items()})


def _markup(sentence: Sentence, *, strong: str = "") -> str:
    parts: dict[str, str] = {}
    for key, link in sentence.links.items():
        if link.url is None:
            parts[key] = f'<strong style="{strong}">{e(link.label)}</strong>'
        else:
            parts[key] = (
                f'<a class="link" href="{e(link.url)}" '
                f'style="color:{LINK};text-decoration:underline;">{e(link.label)}</a>'
            )
    return e(sentence.template).format(**parts)


def html_document(mail: MailContent) -> str:
    """The ``text/html`` part: a complete document, readable without images, light or dark."""
    p = f'style="margin:0 0 16px;{FONT}font-size:16px;line-height:1.5;"'
    head = f'style="margin:0 0 6px;{FONT}font-size:16px;line-height:1.5;font-weight:bold;"'
    body: list[str] = [
        f'<p style="margin:0 0 20px;{FONT}font-size:20px;line-height:1.3;font-weight:bold;">'
        + _markup(mail.title, strong="font-size:30px;white-space:nowrap;")
        + "</p>",
        f"<p {p}>{e(mail.greeting)}</p>",
        f"<p {p}><strong>{e(mail.headline)}</strong><br>{e(mail.what)}</p>",
    ]
    if mail.note_label is not None:
        body += [
            f"<p {head}>{e(mail.note_label)}</p>",
            f'<blockquote class="quote" style="margin:0 0 16px;padding:10px 14px;'
            f"border-left:4px solid {QUOTE_BAR};background-color:{QUOTE_BG};{FONT}"
            f'font-size:16px;line-height:1.5;">'
            + "<br>".join(map(e, mail.note_lines))
            + "</blockquote>",
        ]
    rows = "".join(
        f'<tr><td class="muted" style="padding:4px 16px 4px 0;vertical-align:top;color:{MUTED};'
        f'{FONT}font-size:15px;">{e(label)}</td><td style="padding:4px 0;vertical-align:top;'
        f'{FONT}font-size:15px;">{e(value)}</td></tr>'
        for label, value in mail.facts
    )
    body += [
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        f'style="margin:0 0 20px;border-collapse:collapse;">{rows}</table>',
        f"<p {head}>{e(mail.how)}</p>",
        f'<ul style="margin:0 0 16px;padding-left:22px;{FONT}font-size:16px;line-height:1.5;">'
        + "".join(f"<li>{_markup(way)}</li>" for way in mail.ways)
        + "</ul>",
        f"<p {head}>{e(mail.next_label)}</p>",
        f"<p {p}>{_markup(mail.next_step)}</p>",
        f'<p style="margin:0;{FONT}font-size:16px;line-height:1.5;">{e(mail.thanks)}<br>'
        f"{e(mail.signature)}</p>",
    ]
    table = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{e(mail.locale)}" dir="ltr">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light dark">',
            '<meta name="supported-color-schemes" content="light dark">',
            f"<title>{e(mail.subject)}</title>",
            f"<style>\n{DARK_CSS}\n</style>",
            "</head>",
            f'<body class="page" style="margin:0;padding:0;background-color:{PAGE_BG};">',
            f'<table {table} class="page" style="background-color:{PAGE_BG};">',
            '<tr><td align="center" style="padding:24px 12px;">',
            f'<table {table} class="card" style="max-width:560px;background-color:{CARD_BG};'
            f'border:1px solid {BORDER};border-radius:8px;">',
            f'<tr><td style="background-color:{BRAND};color:#ffffff;padding:16px 24px;'
            f'border-radius:8px 8px 0 0;{FONT}font-size:20px;font-weight:bold;">'
            f"{e(mail.brand)}</td></tr>",
            f'<tr><td class="text" style="padding:24px;color:{TEXT};{FONT}font-size:16px;'
            f'line-height:1.5;">',
            *body,
            "</td></tr>",
            f'<tr><td class="muted" style="padding:16px 24px;border-top:1px solid {BORDER};'
            f'color:{MUTED};{FONT}font-size:13px;line-height:1.5;">'
            f"{_markup(mail.footer)}</td></tr>",
            "</table>",
            "</td></tr>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )
