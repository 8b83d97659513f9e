"""An Atom feed of any search, newest first, so a reader can subscribe to it.

Built with ElementTree so every title, name and snippet is escaped by
construction; entry summaries are the engine's highlighted snippet as
``type="html"`` (escaped once more by the XML serialiser, as Atom requires).
"""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

from search.article import NAME_FIELDS
from search.facets import KNOWN_FACETS
from search.results import SearchResult

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _timestamp(day: dt.date | None) -> str:
    if day is None:
        return "1970-01-01T00:00:00Z"
    return f"{day.isoformat()}T00:00:00Z"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    attributes = {name: xml_text(value) for name, value in attributes.items()}
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom_feed(
    result: SearchResult,
    *,
    title: str,
    self_url: str,
    html_url: str,
    article_url,
    generator: str = "article-search",
) -> bytes:
    """The feed document. URLs must be absolute; ``article_url(id)`` gives an entry's.

    An entry's values of the result's facets are its categories (authors are its authors).
    """
    bylines = [names.field for names in NAME_FIELDS if names.byline]
    categories = [
        KNOWN_FACETS[name] for name in result.facets if KNOWN_FACETS[name].field not in bylines
    ]
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", self_url)
    _add(feed, "title", title)
    dates = [hit.date for hit in result.hits if hit.date]
    _add(feed, "updated", _timestamp(max(dates) if dates else dt.date.today()))
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=html_url)
    author = _add(feed, "author")
    _add(author, "name", generator)
    _add(feed, "generator", generator)
    for hit in result.hits:
        entry = _add(feed, "entry")
        link = article_url(hit.id)
        _add(entry, "id", link)
        _add(entry, "title", hit.title)
        _add(entry, "updated", _timestamp(hit.date))
        if hit.date:
            _add(entry, "published", _timestamp(hit.date))
        _add(entry, "link", rel="alternate", type="text/html", href=link)
        for name in (name for field in bylines for name in getattr(hit, field)):
            _add(_add(entry, "author"), "name", name)
        for facet in categories:
            for value in facet.values_of(hit):
                _add(entry, "category", term=value, label=f"{facet.label}: {value}")
        if hit.snippet:
            _add(entry, "summary", hit.snippet, type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
