"""French translations: the committed .mo is the compiled .po, and every extracted message is translated."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FR = ROOT / "wms" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}


def french_catalog():  # type: ignore[no-untyped-def]
    with (FR / "messages.po").open("rb") as f:
        return read_po(f)


def extracted_msgids() -> set[str]:
    """Every msgid (the singular for plural messages) that babel.cfg makes pybabel extract."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        ids.add(message if isinstance(message, str) else message[0])
    return ids - {""}


def messages_of(catalog) -> dict[tuple[object, str | None], object]:  # type: ignore[no-untyped-def]
    """Each message's translation by (msgid, context), without the header (whose text names the babel version)."""
    def frozen(text):  # type: ignore[no-untyped-def]
        return text if isinstance(text, str) else tuple(text)

    return {(frozen(m.id), m.context): frozen(m.string) for m in catalog if m.id and not m.fuzzy}


def test_committed_mo_is_the_compiled_po() -> None:
    buf = io.BytesIO()
    write_mo(buf, french_catalog())
    buf.seek(0)
    with (FR / "messages.mo").open("rb") as f:
        committed = messages_of(read_mo(f))
    compiled = messages_of(read_mo(buf))
    assert committed == compiled
    assert len(compiled) > 100


def test_a_catalogue_compiled_by_another_babel_still_matches() -> None:
    catalog = french_catalog()
    catalog.version = "other"
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    with (FR / "messages.mo").open("rb") as f:
        assert messages_of(read_mo(f)) == messages_of(read_mo(buf))


def test_every_extracted_message_is_translated_in_french() -> None:
    catalog = french_catalog()
    untranslated = []
    for msgid in sorted(extracted_msgids()):
        message = catalog.get(msgid)
        strings = [] if message is None else list(message.string) if message.pluralizable else [message.string]
        if not strings or not all(strings) or message.fuzzy:
            untranslated.append(msgid)
    assert untranslated == []


def test_extraction_sees_the_templates_and_the_python_code() -> None:
    ids = extracted_msgids()
    assert "Locations" in ids  # a supervisor template
    assert "Your role does not give access to this page." in ids  # wms/auth/setup.py


def test_the_compiled_catalog_speaks_french() -> None:
    with (FR / "messages.mo").open("rb") as f:
        catalog = read_mo(f)
    assert catalog.get("Pick aisle").string == "Allée de prélèvement"
    assert list(catalog.get(("%(num)d product", "%(num)d products")).string) == ["%(num)d produit", "%(num)d produits"]
