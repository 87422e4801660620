"""The Telegram transport and the composition root."""
