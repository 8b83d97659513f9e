"""Search analytics that keep nothing personal: what readers search for and do not find.

The search page reports each search a reader settles on, and the result the
reader opens from it, with a beacon (web/beacon.py); a page view's random id
joins the two and is forgotten with the page. Nothing else about the reader is
kept: no address, user agent, referrer, cookie or lasting identifier, query
text that looks personal is masked (``privacy``), times are kept to the hour.
Each serving process hands its events to a ``Recorder``, which writes them in
batches, off the request path, to ``<index>/analytics/searches.sqlite`` (``storage``);
``reports`` reads that file, and the copies publish collects from replicas.
"""
