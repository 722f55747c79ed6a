"""Gathers the dashboard's words into its catalogs, for translators.

    python -m hub.web.messages           # update hub/web/locales/*.po from the sources
    python -m hub.web.messages --check   # exit 1 if a catalog is behind or a text is missing

A text is marked where it is written: `{% trans %}…{% endtrans %}` or `_("…")` in a template,
`Seed.t("…")` in a script, `N_("…")` in Python that hands a text to a template. English is
the source language: its catalog repeats each text. Every other catalog keeps its
translations; a new text arrives empty, and `--check` names it until someone translates it.
Adding a language is adding `<locale>.po` (copy `en.po`, translate every `msgstr`).
"""

import argparse
import copy
import io
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from hub import __version__
from hub.web.language import LOCALES
from protocol.i18n import SOURCE_LANGUAGE, locale_of

WEB = Path(__file__).parent
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("static/**.js", "javascript"),
    ("*.py", "python"),
]
OPTIONS = {"templates/**.html": {"trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "Seed.t": None, "N_": None}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
"""Catalogs carry no dates: a file changes only when its words do."""
PROGRAM = "python -m hub.web.messages"
COMMENT_TAGS = ["Translators:"]
HEADER = "The dashboard's own words. Update with: python -m hub.web.messages"


def extract(source: Path = WEB) -> Catalog:
    """Every marked text in the dashboard's templates, scripts and Python, with its places."""
    template = Catalog(
        locale=Locale.parse(SOURCE_LANGUAGE),
        header_comment=f"# {HEADER}",
        project="Seed hub dashboard",
        version=__version__,
        msgid_bugs_address="",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        last_translator="",
        language_team="",
    )
    found = extract_from_dir(source, METHODS, OPTIONS, keywords=KEYWORDS, comment_tags=COMMENT_TAGS)
    root = WEB.parent.parent
    for filename, lineno, message, comments, _context in found:
        place = (source / filename).relative_to(root).as_posix()
        template.add(message, locations=[(place, lineno)], auto_comments=comments)
    return template


def updated(template: Catalog, path: Path) -> Catalog:
    """The catalog at `path` brought up to the template's texts, keeping its translations."""
    locale = locale_of(path.stem)
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=locale)
    else:
        catalog = Catalog(locale=locale)
    catalog.header_comment = f"# {HEADER}"
    catalog.project, catalog.version = template.project, template.version
    catalog.msgid_bugs_address, catalog.last_translator = "", ""
    catalog.language_team = ""
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
    if path.stem == SOURCE_LANGUAGE:
        for message in catalog:
            if message.id:
                message.string = message.id
    return catalog


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=100,
        ignore_obsolete=True,
        include_lineno=False,
        omit_header=False,
        sort_output=True,
    )
    return buffer.getvalue()


def catalog_files(folder: Path = LOCALES) -> list[Path]:
    return sorted(folder.glob("*.po"))


def stale(template: Catalog, folder: Path = LOCALES) -> list[Path]:
    """The catalogs that `python -m hub.web.messages` would change."""
    return [
        path
        for path in catalog_files(folder)
        if path.read_bytes() != render(updated(template, path))
    ]


def untranslated(folder: Path = LOCALES) -> dict[str, list[str]]:
    """Per catalog, the texts it has no translation for."""
    gaps: dict[str, list[str]] = {}
    for path in catalog_files(folder):
        with path.open("rb") as file:
            catalog = read_po(file, locale=locale_of(path.stem))
        missing = [str(m.id) for m in catalog if m.id and not m.string]
        if missing:
            gaps[path.name] = missing
    return gaps


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hub.web.messages", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a catalog is behind or incomplete",
    )
    arguments = parser.parse_args(argv)
    template = extract()
    behind = stale(template)
    if not arguments.check:
        for path in behind:
            path.write_bytes(render(updated(template, path)))
            print(f"updated {path}")
        behind = []
    problems = [
        f"{path.name} is behind the sources: run python -m hub.web.messages" for path in behind
    ]
    problems += _missing_lines(untranslated())
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(template)} texts, {len(catalog_files())} languages")
    return 1 if problems and arguments.check else 0


def _missing_lines(gaps: dict[str, list[str]]) -> Iterable[str]:
    for name, messages in gaps.items():
        shown = ", ".join(repr(m) for m in messages[:5])
        more = f" and {len(messages) - 5} more" if len(messages) > 5 else ""
        yield f"{name} has no translation for {shown}{more}"


if __name__ == "__main__":
    sys.exit(main())
