"""Import of the subscriber registry from a CSV export of billing.

``python bot.py import-subscribers FILE.csv`` loads the utility's whole registry (about
two million rows) into the ``subscribers`` table. Three properties drive the design:

* **All or nothing.** A registry that is half old and half new would give subscribers
  wrong answers (a paid debt still shown, a suspended service shown as active), so the
  file is first validated completely; any invalid row aborts the import with every
  problem listed by line number, and the database is left untouched. ``subscribers``
  is then changed by ONE transaction, so a crash or a database error also leaves the
  old registry intact.
* **Constant memory.** The file is streamed (``csv`` over a text stream) and never held
  in memory; rows are written in batches. The only structure that grows with the file
  is what the check for a code given twice needs: one 64-bit key per row in flat arrays
  (16 MB for two million rows, against ~125 MB for a set of ints). Only when a key
  repeats is the file read once more to name the lines involved.
* **Minutes, not hours, and the bot keeps running.** Each batch is bulk-inserted with an
  executemany into a temporary staging table; two set-based statements then merge it
  into ``subscribers`` (``UPDATE ... FROM`` for known codes, rewriting only rows whose
  values differ, and ``INSERT ... SELECT ... WHERE NOT EXISTS`` for new ones). Staging
  beat ``INSERT ... ON CONFLICT DO UPDATE`` per batch by ~25% on PostgreSQL and matched
  it on SQLite, where it has a decisive advantage: the temporary tables live outside
  the main database, so SQLite's single write lock is held only while the rows that
  actually changed are merged, not during the whole load (see ``loading._load_sqlite``). On
  PostgreSQL (row locks, MVCC) everything simply runs in one transaction.

Rows of ``subscribers`` that are absent from the file are left as they are.

Columns: ``subscriber_code,owner_fin,meterless,debt_azn,service_state,address``, optionally
followed by ``phone`` (the phone on record, any Azerbaijani form, stored in E.164; empty:
none). A Telegram-verified contact equal to it proves the owner FIN. A file without the
phone column leaves the stored phones as they are; an invalid phone is a row error (reported
without the value, like an invalid FIN).

Progress: ``progress(done, total)`` is called after every batch of both passes. During
the validation pass ``total`` is 0 (not known yet) and ``done`` counts the rows checked;
during the load pass ``total`` is the number of data rows found by the validation pass.

Layout: ``parsing`` reads and validates the file (no database), ``loading`` stages and
merges it; the command line with its progress bar is ``bot.import_cli``.
"""

from storage.subscribers_import.loading import ImportResult, import_subscribers
from storage.subscribers_import.parsing import (
    HEADER,
    HEADER_WITH_PHONE,
    MAX_REPORTED_ERRORS,
    FinParser,
    ImportFailed,
    Progress,
    RowError,
)

__all__ = [
    "HEADER",
    "HEADER_WITH_PHONE",
    "MAX_REPORTED_ERRORS",
    "FinParser",
    "ImportFailed",
    "ImportResult",
    "Progress",
    "RowError",
    "import_subscribers",
]
