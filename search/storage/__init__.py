"""The storage of index generations: what an index folder holds and how a generation is read.

- ``index_folder``: the folder's layout (builds, the ``current`` and
  ``previous`` links, generations), which generation is served, new builds
  and making one live;
- ``manifest``: each generation's manifest (every file's size and checksum)
  and durable writes;
- ``run_record``: the indexer's run record, which /healthz reads;
- ``segments``: what a reader keeps of each segment across generations;
- ``docsets``: sets of documents as arrays over a generation.

Beneath them, ``search.whoosh_internals`` holds everything below Whoosh's
public surface. It stays at its own path: every index written since it
moved there pickles ``search.whoosh_internals.codec.ArticleCodec`` by name.
The query side (``search.engine`` and what it uses) reads generations through
this package; the indexer (``index/``) writes them through it.
"""
