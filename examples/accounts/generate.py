#!/usr/bin/env python3
"""Writes the accounts example dataset: id, firstName, lastName, email,
balance (integer), rate (decimal), as CSV with a header line.

    python3 examples/accounts/generate.py                 # the committed file
    python3 examples/accounts/generate.py --rows 1000000 --out /tmp/a.csv

Deterministic: the same arguments always give the same bytes (a fixed seed,
Python's own random module). The first twelve rows are the ones shown in the
seed report's screenshot (e-mail addresses cut off there are completed), so
the demo's table can be checked against it. Standard library only.
"""
import argparse
import csv
import os
import random
import sys

SEED_ROWS = [
    ("Florette", "Dumphy", "fdumphy0@mtv.com", 12507, "0.46"),
    ("Stacy", "Danjoie", "sdanjoie1@mozilla.org", 59174, "0.41"),
    ("Maribeth", "Brinson", "mbrinson2@pagesperso-orange.fr", 15672, "0.64"),
    ("Emmi", "Auden", "eauden3@amazon.com", 15640, "0.33"),
    ("Lizette", "Dayment", "ldayment4@netvibes.com", 12645, "0.53"),
    ("Herold", "Aleksidze", "haleksidze5@mozilla.com", 71953, "0.36"),
    ("Theadora", "Merrywether", "tmerrywether6@webnode.com", 51218, "0.23"),
    ("Clarabelle", "Gutman", "cgutman7@prweb.com", 94945, "0.56"),
    ("See", "Wrack", "swrack8@stumbleupon.com", 34301, "0.13"),
    ("Pammi", "Jonah", "pjonah9@usgs.gov", 21164, "0.64"),
    ("Garvy", "Hayer", "ghayera@com.com", 18277, "0.48"),
    ("Roosevelt", "Petru", "rpetrub@merriam-webster.com", 59443, "0.89"),
]

FIRST = """Ada Alma Anton Aurea Basia Bertie Calla Cyrus Dario Delia Dorian Edda
Elmo Enid Fabia Felix Gaia Galen Hale Hedda Ilse Ingo Jada Jonas Kaia Kato
Lark Linus Mabel Milo Nadia Nils Odell Olga Pax Petra Quinn Rafe Rosa Saul
Selma Tam Thea Ugo Una Vada Vito Wren Yuri Zelda""".split()
LAST = """Abbot Baird Calder Dorsey Ellery Farrow Gadd Harlow Iles Jessop Keel
Lamb Marsh Nance Orme Pell Quaid Rook Sayer Tolland Upton Vance Wick Yarrow
Zeal Ashby Brough Crane Dunmore Eckley Fenn Gale Hythe Ives Jory Kemble Lusk
Merritt Nye Oakes""".split()
DOMAINS = """mtv.com mozilla.org amazon.com netvibes.com prweb.com usgs.gov
example.com example.org wikipedia.org bbc.co.uk nasa.gov un.org
dmoz.org""".split()


def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def rows(count):
    rng = random.Random(20220518)
    for i in range(count):
        ident = i + 1
        if i < len(SEED_ROWS):
            first, last, email, balance, rate = SEED_ROWS[i]
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = "%s%s%s@%s" % (first[0].lower(), last.lower(), base36(i),
                                   rng.choice(DOMAINS))
            balance = rng.randrange(1000, 100000)
            rate = "0.%02d" % rng.randrange(1, 100)
            rate = rate.rstrip("0") if rate.endswith("0") else rate
        yield (ident, first, last, email, balance, rate)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(here, "accounts.csv"))
    a = p.parse_args()
    out = sys.stdout if a.out == "-" else open(a.out, "w", newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "firstName", "lastName", "email", "balance", "rate"])
    w.writerows(rows(a.rows))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
