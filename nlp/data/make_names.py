"""Rebuild names_sv.txt (run by hand; never imported at run time).

Source: the name statistics shipped in Faker's ``sv_SE`` person provider (MIT licence), which
cite Isof's top-500 first names (2023) and Skatteverket's top-500 surnames (2025). Names are
facts; we keep only the strings. Usage::

    python nlp/data/make_names.py PATH/TO/faker/providers/person/sv_SE/__init__.py > nlp/data/names_sv.txt

Ambiguous names (also ordinary Swedish words, e.g. "Inga", "Klara", "Liv", "Berg") are listed
by hand in names_ambiguous_sv.txt, chosen from the names whose lower-case form is a word in the
Swedish hunspell dictionary (dsso, expanded with ``unmunch``) — only names where the word sense is
common enough to matter are kept there.
"""

from __future__ import annotations

import re
import sys

EXTRA_FIRST = """
Abdikadir Abdirizak Abdo Abdulkadir Abdullahi Abdulrahman Ahmad Aisha Alaa Amal Amani Amin
Amir Amira Anwar Arash Asma Ayan Ayaan Aziz Bashir Bilal Dalia Deqa Dina Ebrahim Elham Emir
Faisal Farah Farhan Farid Fatuma Faysal Ferhat Filmon Ghazal Habib Hadi Hafsa Hamid Hamza Hana
Hani Haval Hawa Hiba Hodan Hussein Ibrahim Idris Ilhan Ilyas Iman Ismail Jamal Jamila Kamal
Karim Khadija Khaled Layla Leyla Mahmoud Majid Maryam Medina Mehdi Milad Mina Mona Mustafa Nadia
Najib Nasra Nasrin Nawal Nima Nour Nur Omar Parisa Rahel Rami Rania Reza Rozh Saeed Said Salah
Salma Samir Samira Sara Shirin Sirwan Somaya Tesfay Walid Yasin Yonas Yousef Yusuf Zahra Zainab
Zeynep Zinat Goran Dragan Zoran Mirela Amra Emina Jasmina Adnan Senad Edin Piotr Katarzyna
Tomasz Joanna Marek Magdalena Ewa Agnieszka Olena Oksana Natalia Irina Dmitri Sergei Ahmet Mehmet
Ayse Fatma Emine Hatice
"""


def grab(src: str, name: str) -> list[str]:
    m = re.search(name + r"\s*=\s*OrderedDict\(\s*\((.*?)\)\s*\)", src, re.S)
    assert m, name
    return re.findall(r'\("([^"]+)",\s*[0-9.e-]+\)', m.group(1))


def main(path: str) -> None:
    src = open(path, encoding="utf-8").read()
    first = (
        set(grab(src, "first_names_female")) | set(grab(src, "first_names_male")) | set(EXTRA_FIRST.split())
    )
    last = set(grab(src, "last_names"))
    print("# Swedish first names (f) and surnames (s), one per line: NAME<TAB>KINDS")
    print("# Source: Isof top-500 first names 2023 and Skatteverket top-500 surnames 2025, as shipped")
    print("# in Faker's sv_SE provider (MIT); plus a hand-written list of first names common among")
    print("# newer Swedes (Arabic, Somali, Persian, Kurdish, Tigrinya, Balkan, Polish, Turkish).")
    print("# Rebuild with nlp/data/make_names.py.")
    for n in sorted(first | last, key=str.casefold):
        kinds = ("f" if n in first else "") + ("s" if n in last else "")
        print(f"{n}\t{kinds}")


if __name__ == "__main__":
    main(sys.argv[1])
