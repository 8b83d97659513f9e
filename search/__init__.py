"""The search core: what an article is, searching it, and storing the index. Knows no Flask.

Three parts:

- the shared core: ``article`` (an article's fields, declared once),
  ``schema`` and ``analysis`` (how they are indexed), ``settings`` (every
  environment variable);
- the query side: ``engine`` (``SearchEngine``) and what it uses (``query``,
  ``expansion``, ``vocabulary``, ``spelling``, ``suggest``, ``context``,
  ``matching``, ``ranking``, ``feedback``, ``hybrid``, ``facets``, ``desk``
  and its ``synonyms`` and ``rules``), answering with ``results`` and written
  as JSON by ``serialize``;
- storage (``storage/``, over ``whoosh_internals/``): the index folder, its
  generations and what a reader keeps of them.

The public face, what ``web/`` and ``index/`` may import, is PUBLIC (and, for
the indexer, which writes the index, WRITING as well);
``tests/test_layers.py`` holds both packages to it. Nothing is re-exported
here: importing ``search.settings`` (as gunicorn's configuration does) must not
open Whoosh and the model.
"""

# Every search module a page, an API route or a command needs.
PUBLIC = frozenset(
    {
        "search.analytics.events",
        "search.analytics.privacy",
        "search.analytics.recorder",
        "search.analytics.reports",
        "search.analytics.storage",
        "search.article",
        "search.desk",
        "search.editors",
        "search.engine",
        "search.facets",
        "search.query",
        "search.results",
        "search.serialize",
        "search.settings",
        "search.storage.index_folder",
        "search.storage.run_record",
        "search.suggest",
    }
)
# What writing an index takes besides: how articles are indexed and embedded, and storage.
WRITING = frozenset(
    {
        "search.analysis",
        "search.embedding",
        "search.schema",
        "search.storage.docsets",
        "search.storage.manifest",
        "search.vectors",
        "search.whoosh_internals",
    }
)
