"""Reading and validation of a registry file; nothing here touches the database.

``validate`` is the first pass: it streams the file once and raises ``ImportFailed``
with every problem by line number. ``read_records`` and ``parse_record`` also serve the
loading pass, which reads the file a second time.
"""

from __future__ import annotations

import asyncio
import csv
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO, TypeAlias

from workflows.models import ServiceState
from workflows.values import ADDRESS_MAX_LENGTH, InvalidPhone, clean_text, parse_phone

HEADER: tuple[str, ...] = (
    "subscriber_code",
    "owner_fin",
    "meterless",
    "debt_azn",
    "service_state",
    "address",
)
# The optional last column: the phone on record (empty: none), stored in E.164. A file
# without it leaves the stored phones as they are.
PHONE_COLUMN = "phone"
HEADER_WITH_PHONE: tuple[str, ...] = (*HEADER, PHONE_COLUMN)
MAX_REPORTED_ERRORS = 100
MAX_CODE_LENGTH = 32
MAX_ADDRESS_LENGTH = ADDRESS_MAX_LENGTH
# Numeric(14, 2): at most 12 digits before the point.
MAX_DEBT_INTEGER_DIGITS = 12

_FIN = re.compile(r"[0-9A-HJ-NP-Z]{7}")
_DEBT = re.compile(rf"[0-9]{{1,{MAX_DEBT_INTEGER_DIGITS}}}(?:\.[0-9]{{1,2}})?")
_SIGNED_NUMBER = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_STATES = frozenset(state.value for state in ServiceState)
_COLUMNS = len(HEADER)
_PHONE_MESSAGES = {
    "foreign": "phone is not an Azerbaijani number",
    "too_long": "phone is too long",
}
_EXACT_KEY_DIGITS = 18  # every 18-digit number fits in a signed 64-bit int
_HASH_MASK = (1 << 62) - 1


@dataclass(frozen=True, slots=True)
class RowError:
    # Physical line of the file where the record starts; the header is line 1. 0 stands
    # for the file as a whole (it changed while being imported).
    line: int
    message: str


class ImportFailed(Exception):
    """The file was rejected; nothing was written.

    ``errors`` is ordered by line and holds at most ``MAX_REPORTED_ERRORS`` entries
    (plus, if the file could not be read to its end, the line where reading stopped);
    ``total_errors`` counts every invalid line.
    """

    def __init__(self, errors: list[RowError], total_errors: int | None = None) -> None:
        self.errors = errors
        self.total_errors = len(errors) if total_errors is None else total_errors
        super().__init__(f"{self.total_errors} invalid line(s)")


FinParser: TypeAlias = Callable[[str], str]
Progress: TypeAlias = Callable[[int, int], None]
_Values: TypeAlias = tuple[str, str | None, bool, Decimal, str, str, str | None]


class FileUnreadable(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


def open_registry(path: Path) -> TextIO:
    # utf-8-sig drops a BOM; surrogateescape turns invalid bytes into lone surrogates so
    # the faulty row (not the whole file) is reported, with its line number.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_records(stream: TextIO) -> Iterator[tuple[int, list[str], int]]:
    """Yield ``(line, fields, columns)`` for every data record after checking the header.

    ``line`` is the physical line where the record starts (a quoted field may span
    lines); ``columns`` the header's number of columns (with or without the phone).
    Blank lines are skipped.
    """
    reader = csv.reader(stream, strict=True)
    previous = 0
    try:
        header = next(reader, None)
        names = [field.strip() for field in header] if header is not None else None
        if names not in (list(HEADER), list(HEADER_WITH_PHONE)):
            message = (
                f"the header must be exactly: {','.join(HEADER)} "
                f"(optionally followed by ,{PHONE_COLUMN})"
            )
            if header is not None and len(header) == 1 and ";" in header[0]:
                message += " (fields separated by commas, not semicolons)"
            raise FileUnreadable(1, message)
        columns = len(names)
        previous = reader.line_num
        for fields in reader:
            line = previous + 1
            previous = reader.line_num
            if fields:
                yield line, fields, columns
    except csv.Error as exc:
        raise FileUnreadable(previous + 1, f"unreadable CSV: {exc}") from None


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _check_code(raw: str) -> str | None:
    code = raw.strip()
    if 0 < len(code) <= MAX_CODE_LENGTH and code.isascii() and code.isdigit():
        return code
    return None


def _debt_problem(raw: str) -> str:
    if "," in raw:
        return f"debt_azn {_show(raw)}: use a dot as the decimal separator (e.g. 12.50)"
    match = _SIGNED_NUMBER.fullmatch(raw)
    if match is None:
        return f"debt_azn {_show(raw)} is not a decimal number (e.g. 12.50)"
    if raw.startswith("-") and Decimal(raw) != 0:
        return f"debt_azn {_show(raw)} must not be negative"
    if raw[0] in "+-":
        return f"debt_azn {_show(raw)} must be written without a sign"
    if match.group(2) is not None and len(match.group(2)) > 2:
        return f"debt_azn {_show(raw)} has more than 2 decimals"
    return f"debt_azn {_show(raw)} is too large (at most {MAX_DEBT_INTEGER_DIGITS} digits)"


def default_fin(raw: str) -> str:
    fin = raw.strip().upper()
    if _FIN.fullmatch(fin) is None:
        raise ValueError("not a FIN")
    return fin


def _phone_problem(raw: str) -> tuple[str | None, str | None]:
    """``(E.164 phone or None, None)`` or ``(None, problem)``; the problem never shows the
    value (personal data: the line number is enough to find it)."""
    if not raw.strip():
        return None, None
    try:
        return parse_phone(raw), None
    except InvalidPhone as exc:
        return None, _PHONE_MESSAGES.get(exc.code, "phone is not a valid phone number")


def parse_record(
    fields: list[str], fin_parser: FinParser, columns: int = _COLUMNS
) -> tuple[_Values | None, list[str]]:
    """Validate one record of a file of ``columns`` columns: ``(values, [])`` or
    ``(None, problems)``; without the phone column the phone is None."""
    if len(fields) != columns:
        return None, [f"expected {columns} columns, found {len(fields)}"]
    raw_code, raw_fin, raw_meterless, raw_debt, raw_state, raw_address = fields[:_COLUMNS]
    problems: list[str] = []

    code = _check_code(raw_code)
    if code is None:
        problems.append(f"subscriber_code {_show(raw_code)} must be 1 to {MAX_CODE_LENGTH} digits")

    fin: str | None = None
    if raw_fin.strip():
        try:
            fin = fin_parser(raw_fin)
            if len(fin) != 7:  # the column is String(7), whatever the parser accepts
                raise ValueError(fin)
        except ValueError:
            # The value is personal data: the line number is enough to find it.
            problems.append(
                "owner_fin is not a valid FIN (7 characters: digits and Latin capitals "
                "except I and O)"
            )

    meterless = _BOOLEANS.get(raw_meterless.strip().lower())
    if meterless is None:
        problems.append(f"meterless {_show(raw_meterless)} must be one of true/false/1/0/yes/no")

    raw_debt = raw_debt.strip()
    debt: Decimal | None = None
    if _DEBT.fullmatch(raw_debt):
        debt = Decimal(raw_debt)
    else:
        problems.append(_debt_problem(raw_debt))

    state = raw_state.strip().lower()
    if state not in _STATES:
        problems.append(
            f"service_state {_show(raw_state)} must be one of {'/'.join(sorted(_STATES))}"
        )

    # Invalid bytes (lone surrogates here) are reported before the cleaning would drop them;
    # line breaks are joined with a space and control and bidi characters removed.
    address = ""
    try:
        raw_address.encode("utf-8")
    except UnicodeEncodeError:
        problems.append("address is not valid UTF-8 text")
    else:
        address = clean_text(raw_address, multiline=False)
        if not address:
            problems.append("address is empty")
        elif len(address) > MAX_ADDRESS_LENGTH:
            problems.append(f"address is longer than {MAX_ADDRESS_LENGTH} characters")

    phone, phone_problem = _phone_problem(fields[_COLUMNS]) if columns > _COLUMNS else (None, None)
    if phone_problem:
        problems.append(phone_problem)

    if problems or code is None or meterless is None or debt is None:
        return None, problems  # each None above came with its problem
    return (code, fin, meterless, debt, state, address, phone), []


def file_has_phone(path: Path) -> bool:
    """Whether the file's header has the phone column (False when it cannot be read: the
    validation says why)."""
    with open_registry(path) as stream:
        try:
            header = next(csv.reader(stream), [])
        except csv.Error:
            return False
    return [name.strip() for name in header] == list(HEADER_WITH_PHONE)


class _CodeKeys:
    """Every code of the file as a 64-bit key, 8 bytes a row, for the duplicate check.

    A set of two million ``int`` objects would take about 125 MB; arrays take 16 MB.
    The keys are spread over buckets so that the repeated ones can be found afterwards
    with one small set per bucket.
    """

    _BUCKETS = 251  # prime: codes in a regular progression still spread evenly

    def __init__(self) -> None:
        self._buckets = [array("q") for _ in range(self._BUCKETS)]

    def add(self, key: int) -> None:
        self._buckets[key % self._BUCKETS].append(key)

    def repeated(self) -> set[int]:
        found: set[int] = set()
        for bucket in self._buckets:
            if len(set(bucket)) == len(bucket):
                continue
            seen: set[int] = set()
            for key in bucket:
                if key in seen:
                    found.add(key)
                else:
                    seen.add(key)
        return found


def _code_key(code: str) -> int:
    """The code itself when it is a lossless int64 (no leading zero), else a hash of it.

    Hashed keys are negative, so they never meet exact ones; a hash collision can only
    make ``_report`` compare the actual codes, never hide a duplicate.
    """
    if code[0] != "0" and len(code) <= _EXACT_KEY_DIGITS:
        return int(code)
    return -1 - (hash(code) & _HASH_MASK)


async def validate(
    path: Path, batch_size: int, progress: Progress | None, fin_parser: FinParser
) -> int:
    """First pass: check every row; return the number of data rows or raise ImportFailed."""
    keys = _CodeKeys()
    rows = invalid = 0
    errors: list[RowError] = []
    try:
        with open_registry(path) as stream:
            for line, fields, columns in read_records(stream):
                rows += 1
                _values, problems = parse_record(fields, fin_parser, columns)
                if problems:
                    invalid += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append(RowError(line, "; ".join(problems)))
                code = _check_code(fields[0]) if len(fields) == columns else None
                if code is not None:
                    keys.add(_code_key(code))
                if rows % batch_size == 0:
                    if progress is not None:
                        progress(rows, 0)
                    await asyncio.sleep(0)  # let the event loop breathe between batches
    except FileUnreadable as exc:
        invalid += 1
        errors.append(RowError(exc.line, exc.message))
    if progress is not None and rows % batch_size:
        progress(rows, 0)
    repeated = keys.repeated()
    del keys
    if repeated:
        failed = _report(path, repeated, fin_parser)
        if failed is not None:
            raise failed
    if invalid:
        raise ImportFailed(errors, invalid)
    return rows


def _report(path: Path, repeated: set[int], fin_parser: FinParser) -> ImportFailed | None:
    """Re-read the file to list every problem, naming the first line of repeated codes."""
    first_line: dict[str, int] = {}
    errors: list[RowError] = []
    invalid = 0

    def add(line: int, problems: list[str]) -> None:
        nonlocal invalid
        invalid += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append(RowError(line, "; ".join(problems)))

    with open_registry(path) as stream:
        try:
            for line, fields, columns in read_records(stream):
                _values, problems = parse_record(fields, fin_parser, columns)
                code = _check_code(fields[0]) if len(fields) == columns else None
                if code is not None and _code_key(code) in repeated:
                    first = first_line.setdefault(code, line)
                    if first != line:
                        repeat = f"subscriber_code {code} already appears on line {first}"
                        problems = [repeat, *problems]
                if problems:
                    add(line, problems)
        except FileUnreadable as exc:
            add(exc.line, [exc.message])
    return ImportFailed(errors, invalid) if invalid else None
