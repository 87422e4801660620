"""Synthetic subscriber registry for throughput checks of ``import-subscribers``.

``python -m bench.gen_subscribers /tmp/subscribers.csv --rows 2000000`` writes a valid
CSV in the import format. Codes are unique 10-digit numbers in scrambled order (the
worst case for the primary-key index: a real export is often sorted); about a third of
the rows name an owner FIN, a fifth carry a debt and a tenth are suspended. The output is
deterministic for a given ``--seed``, so two runs with another seed give the same codes
with different values (a re-import that rewrites rows).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from storage.subscribers_import import HEADER

_FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_DISTRICTS = (
    "Binəqədi",
    "Nərimanov",
    "Nəsimi",
    "Nizami",
    "Qaradağ",
    "Sabunçu",
    "Səbail",
    "Suraxanı",
    "Xətai",
    "Xəzər",
    "Yasamal",
)
_STREETS = (
    "Azadlıq pr.",
    "Babək pr.",
    "Füzuli küç.",
    "Həsən bəy Zərdabi pr.",
    "Neftçilər pr.",
    "Nizami küç.",
    "Qara Qarayev pr.",
    "Səməd Vurğun küç.",
    "Şərifzadə küç.",
    "Təbriz küç.",
)
# Odd and not a multiple of 5, hence invertible modulo 10**9: i -> code is a bijection.
_SCRAMBLE = 2_654_435_761
_CODE_SPACE = 10**9


def generate(out: Path, rows: int, seed: int = 1) -> None:
    if rows > _CODE_SPACE:
        raise ValueError(f"at most {_CODE_SPACE} rows")
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not a secret
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(rows):
            code = str(_CODE_SPACE + (i * _SCRAMBLE) % _CODE_SPACE)
            fin = "".join(rng.choices(_FIN_ALPHABET, k=7)) if rng.random() < 0.33 else ""
            meterless = "true" if rng.random() < 0.9 else "false"
            debt = f"{rng.randrange(1, 50_000) / 100:.2f}" if rng.random() < 0.2 else "0.00"
            state = "suspended" if rng.random() < 0.1 else "active"
            address = (
                f"Bakı ş., {rng.choice(_DISTRICTS)} r., {rng.choice(_STREETS)} "
                f"{rng.randrange(1, 300)}, m. {rng.randrange(1, 200)}"
            )
            writer.writerow((code, fin, meterless, debt, state, address))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1, help="varies the values, not the codes")
    args = parser.parse_args(argv)
    generate(args.out, args.rows, args.seed)
    print(f"{args.out}: {args.rows} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
