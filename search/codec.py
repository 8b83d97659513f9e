"""Where ArticleCodec lived before it moved to ``search.whoosh_internals``.

Whoosh pickles each segment's codec, by module path, into the index's table
of contents: indexes written before the move name ``search.codec.ArticleCodec``
and open through this alias.
"""

from search.whoosh_internals.codec import ArticleCodec

__all__ = ["ArticleCodec"]
