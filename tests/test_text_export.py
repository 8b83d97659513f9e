"""The site's text export: the real sample article, and small hand-written ones."""

import datetime as dt

import pytest

from index.formats import ArticleFormatError
from index.formats.text_export import parse_text_export, read_text_export

SAMPLE = "samples/000_aa965e4d68b705bb.txt"


@pytest.fixture(scope="module")
def sample(shared_dir):
    path = shared_dir / SAMPLE
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return read_text_export(path, "000_aa965e4d68b705bb.txt")


def test_sample_metadata(sample, shared_dir):
    assert sample.id == "000_aa965e4d68b705bb.txt"
    assert sample.title == "Italy Blasts France and Poland for Wanting to Send Troops to Ukraine"
    assert sample.authors == ("Ahmed Adel",)
    assert sample.source == "Global Research"
    assert sample.date == dt.date(2024, 3, 11)
    assert sample.regions == ("Europe", "Russia and FSU")
    assert sample.themes == ("Militarization and WMD", "US NATO War Agenda")
    assert sample.reports == ("UKRAINE REPORT",)
    assert sample.url is None
    assert sample.source_file == str(shared_dir / SAMPLE)


def test_sample_bio_and_caption(sample):
    assert sample.author_bio == (
        "Ahmed Adel is a Cairo-based geopolitics and political economy researcher. "
        "He is a regular contributor to Global Research."
    )
    assert sample.image_caption == (
        "Italian Defense Minister Guido Crosetto in Paris, France, June 19, 2023. /CFP"
    )


def test_sample_body_is_the_whole_article(sample):
    paragraphs = sample.body.split("\n\n")
    assert len(paragraphs) == 15
    assert paragraphs[0].startswith("The French government intends to build an alliance")
    assert paragraphs[-1].startswith("Although the Pope's intentions are positive")
    assert paragraphs[-1].endswith("the most Russophobic but minnow states of the Baltics.")
    # The paragraph the export split across a blank line is one paragraph again.
    assert "Kiev withdrew from the Istanbul talks with Russia in the spring of 2022" in sample.body
    # Links are plain text; a bracketed editorial insertion is not a link.
    assert "Guido Crosetto told La Stampa newspaper" in sample.body
    assert '"France and Poland can speak for themselves, [but] not on behalf of NATO,"' in (
        sample.body
    )
    assert "](#)" not in sample.body


@pytest.mark.parametrize(
    "chrome",
    [
        "Translate Website",
        "Daily Newsletter",
        "share button",
        "Fundraising",
        "Note to readers",
        "Cairo-based",  # the author bio
        "Featured image",
        "/CFP",  # the caption
        "The original source of this article is",
        "Copyright",
        "Comment on Global Research Articles",
        "Become a Member",
        "Articles by",
        "Disclaimer",
        "fair use",
        "For media inquiries",
        "publications@globalresearch.ca",
    ],
)
def test_sample_body_has_no_site_chrome(sample, chrome):
    assert chrome not in sample.body
    assert "\n\n*\n\n" not in sample.body and not sample.body.endswith("*")


ARTICLE = """\
Ministers Meet in Brussels

By [Jane Doe](#)

Demo Wire, January 5, 2021

Region: [Europe](#)

The ministers met on Tuesday.

They agreed on nothing.
"""


def test_small_article():
    article = parse_text_export(ARTICLE, "demo/1.txt", source_file="demo/1.txt")
    assert article.id == "demo/1.txt"
    assert article.title == "Ministers Meet in Brussels"
    assert article.authors == ("Jane Doe",)
    assert article.source == "Demo Wire"
    assert article.date == dt.date(2021, 1, 5)
    assert article.regions == ("Europe",)
    assert article.themes == () and article.reports == ()
    assert article.body == "The ministers met on Tuesday.\n\nThey agreed on nothing."
    assert article.author_bio is None and article.image_caption is None
    assert article.source_file == "demo/1.txt"


def test_no_author():
    article = parse_text_export(ARTICLE.replace("By [Jane Doe](#)\n", ""), "a")
    assert article.authors == ()
    assert article.source == "Demo Wire"
    assert article.body.startswith("The ministers met")


def test_two_authors():
    text = ARTICLE.replace("By [Jane Doe](#)", "By [Jane Doe](#), [Ahmed Adel](#)")
    assert parse_text_export(text, "a").authors == ("Jane Doe", "Ahmed Adel")


def test_plain_byline():
    text = ARTICLE.replace("By [Jane Doe](#)", "By Jane Doe and John Roe")
    assert parse_text_export(text, "a").authors == ("Jane Doe", "John Roe")


def test_a_sentence_starting_with_by_is_body():
    text = "Markets\n\nBy the end of the week, prices had fallen.\n"
    article = parse_text_export(text, "a")
    assert article.authors == ()
    assert article.body == "By the end of the week, prices had fallen."


def test_no_date():
    article = parse_text_export(ARTICLE.replace("Demo Wire, January 5, 2021\n", ""), "a")
    assert article.date is None
    assert article.source is None
    assert article.authors == ("Jane Doe",)
    assert article.regions == ("Europe",)


@pytest.mark.parametrize(
    ("line", "source", "date"),
    [
        ("Reuters, Feb 26, 1987", "Reuters", dt.date(1987, 2, 26)),
        ("Reuters, Sept. 3, 1987", "Reuters", dt.date(1987, 9, 3)),
        ("Reuters, september 3 1987", "Reuters", dt.date(1987, 9, 3)),
        ("Demo Wire, Inc., May 1, 2020", "Demo Wire, Inc.", dt.date(2020, 5, 1)),
        ("March 11, 2024", None, dt.date(2024, 3, 11)),
    ],
)
def test_date_forms(line, source, date):
    article = parse_text_export(f"Title\n\n{line}\n\nBody.", "a")
    assert (article.source, article.date, article.body) == (source, date, "Body.")


def test_title_only():
    article = parse_text_export("Oil Prices Rise\n", "a")
    assert article.title == "Oil Prices Rise"
    assert article.body == ""
    assert article.date is None


def test_title_with_metadata_and_no_body():
    article = parse_text_export("Oil Prices Rise\n\nReuters, March 3, 1987\n\n\n", "a")
    assert (article.title, article.body, article.source) == ("Oil Prices Rise", "", "Reuters")


def test_wrapped_title_is_one_line():
    text = "Sosnoff Ends Deal With Pratt, Southmark On Possible\nVenture For Caesars Bid\n\nBody."
    article = parse_text_export(text, "a")
    assert article.title == (
        "Sosnoff Ends Deal With Pratt, Southmark On Possible Venture For Caesars Bid"
    )


def test_values_with_commas_and_ampersands():
    text = (
        "Title\n\n"
        "Region: [Middle East & North Africa](#), [Latin America & Caribbean](#)\n\n"
        "Theme: [Law, Justice and Crime](#), [Poverty & Social Inequality](#)\n\n"
        "In-depth Report: [IRAN: THE NEXT WAR?](#)\n\n"
        "Body."
    )
    article = parse_text_export(text, "a")
    assert article.regions == ("Middle East & North Africa", "Latin America & Caribbean")
    assert article.themes == ("Law, Justice and Crime", "Poverty & Social Inequality")
    assert article.reports == ("IRAN: THE NEXT WAR?",)
    assert article.body == "Body."


def test_plain_values_without_brackets():
    text = "Title\n\nRegion: Europe, Middle East & North Africa\n\nTheme: acq\n\nBody."
    article = parse_text_export(text, "a")
    assert article.regions == ("Europe", "Middle East & North Africa")
    assert article.themes == ("acq",)


def test_unparseable_date():
    with pytest.raises(ArticleFormatError, match="^unparseable date 'Marsh 3, 2024'$"):
        parse_text_export("Title\n\nGlobal Research, Marsh 3, 2024\n\nBody.", "a")


def test_impossible_date():
    with pytest.raises(ArticleFormatError, match="unparseable date 'February 30, 2024'"):
        parse_text_export("Title\n\nGlobal Research, February 30, 2024\n\nBody.", "a")


def test_dated_story_without_title_or_body_is_kept_untitled():
    article = parse_text_export("\nReuters, April 3, 1987\n\n", "a")
    assert (article.title, article.body, article.source) == ("", "", "Reuters")
    assert article.date == dt.date(1987, 4, 3)


def test_metadata_line_first_means_no_title():
    with pytest.raises(ArticleFormatError, match="^no title$"):
        parse_text_export("\nRegion: [Europe](#)\n\nBody.", "a")


@pytest.mark.parametrize("text", ["", "\n\n", "  \n\t\n", "\ufeff\n"])
def test_empty_text(text):
    with pytest.raises(ArticleFormatError, match="^empty file$"):
        parse_text_export(text, "a")


def test_chrome_is_found_by_pattern_for_any_source():
    text = """\
Wire Story

By [A. Writer](#)

Demo Wire, March 3, 2024

All Demo Wire articles can be read in 12 languages by activating the Translate Website button.

To receive Demo Wire's Daily Newsletter, [click here](#).

[Demo Wire Fundraising: Keep Us Going](#)

First paragraph, with [a link](https://example.org/a_(b)).

Last paragraph.

* * *

Note to readers: please share.

A. Writer is a reporter for Demo Wire.

Featured Image: A harbour at dusk.

The original source of this article is Demo Wire
Copyright © [A. Writer](#), Demo Wire, 2024

[Become a Member of Demo Wire](#)

Disclaimer: Nothing here is our fault.
"""
    article = parse_text_export(text, "a")
    assert article.body == "First paragraph, with a link.\n\nLast paragraph."
    assert article.author_bio == "A. Writer is a reporter for Demo Wire."
    assert article.image_caption == "A harbour at dusk."


def test_a_last_paragraph_about_the_author_is_body_without_other_chrome():
    text = "Title\n\nBy [Jane Doe](#)\n\nBody.\n\nJane Doe was there, she said.\n"
    article = parse_text_export(text, "a")
    assert article.body == "Body.\n\nJane Doe was there, she said."
    assert article.author_bio is None


def test_paragraph_joining():
    text = (
        "Title\n\n"
        "It is recalled that Kiev withdrew from the\n\n"
        "Istanbul talks with Russia in 2022.\n\n"
        "A sentence broken before a word in lower\n\n"
        "case carries on.\n\n"
        "Background\n\n"
        "The talks began in spring.\n\n"
        "Shr 37 cts vs 37 cts\n\n"
        "net 7.6 mln vs 7.5 mln\n\n"
        "Pay 15 May\n\n"
        "Record 30 April\n"
    )
    assert parse_text_export(text, "a").body.split("\n\n") == [
        "It is recalled that Kiev withdrew from the Istanbul talks with Russia in 2022.",
        "A sentence broken before a word in lower case carries on.",
        "Background",
        "The talks began in spring.",
        "Shr 37 cts vs 37 cts",
        "net 7.6 mln vs 7.5 mln",
        "Pay 15 May",
        "Record 30 April",
    ]


def test_crlf_and_bom(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeff".encode() + ARTICLE.replace("\n", "\r\n").encode())
    article = read_text_export(path, "crlf.txt")
    assert article.title == "Ministers Meet in Brussels"
    assert article.body == "The ministers met on Tuesday.\n\nThey agreed on nothing."
    assert article.source_file == str(path)
    assert "\r" not in article.body


def test_read_matches_parse(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    assert read_text_export(path, "a") == parse_text_export(ARTICLE, "a")


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t"])
def test_read_empty_file(tmp_path, data):
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(ArticleFormatError, match="^empty file$"):
        read_text_export(path, "empty.txt")


def test_read_binary_file(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ArticleFormatError, match="^binary file$"):
        read_text_export(path, "image.txt")


def test_read_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Title\n\nCaf\u00e9 body.\n".encode("latin-1"))
    with pytest.raises(ArticleFormatError, match=r"^not UTF-8 text \(byte 0xe9 at offset 10\)$"):
        read_text_export(path, "latin1.txt")
