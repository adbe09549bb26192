"""Reads a Hexaglot TBX export with translate-toolkit, an independent TBX reader, and checks that it
sees the concepts and terms Hexaglot wrote.

usage: python3 scripts/tbx_interop.py EXPORT.tbx EXPECTED.json
EXPECTED.json: {"concept-id": {"lang": ["term", ...], ...}, ...} for every concept in the file.
translate-toolkit reads TBX v2 (`martif`); each unit is a concept, with one language node per
langSet.
"""
import json
import sys

from translate.storage import tbx


def main() -> int:
    export, expected_path = sys.argv[1], sys.argv[2]
    expected = json.load(open(expected_path, encoding="utf-8"))
    store = tbx.tbxfile.parsefile(export)
    seen = {}
    for unit in store.units:
        langs = {}
        for node in unit.getlanguageNodes():
            lang = node.get("{http://www.w3.org/XML/1998/namespace}lang")
            terms = [t.text for t in node.iter() if t.tag.endswith("term") and t.text]
            langs.setdefault(lang.split("-")[0], []).extend(terms)
        seen[unit.getid()] = langs
    problems = []
    if set(seen) != set(expected):
        problems.append(f"concept ids differ: missing {sorted(set(expected) - set(seen))}, extra {sorted(set(seen) - set(expected))}")
    for cid, langs in expected.items():
        got = seen.get(cid, {})
        for lang, terms in langs.items():
            if sorted(got.get(lang, [])) != sorted(terms):
                problems.append(f"{cid} {lang}: translate-toolkit sees {got.get(lang)}, expected {terms}")
    for p in problems:
        print(p)
    print(f"translate-toolkit read {len(seen)} concepts, {sum(len(t) for l in seen.values() for t in l.values())} terms; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
