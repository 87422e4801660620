"""Delivering the outbox from the bot process (the loops themselves are in
``workflows.outbox``). Its rooms:

* ``runner``: :class:`~bot.outbox.runner.OutboxRunner`, the lanes and the reminder loop.
* ``telegram``: the Bot API's errors as delivery errors, and the Telegram sender.
* ``email``: the completion e-mail and its sender.
* ``notices``: what the subscriber is told (the Telegram notice, the e-mail's wording).
* ``reading``: the application a row is rendered from.

The runner is built where the process is composed (``bot/main.py``); nothing here imports
``bot.app``.
"""
