"""Words too common to help a keyword ranking; dropped from BM25 queries (not from the index, so
a quoted phrase still matches them), and never highlighted. STOPWORDS, a short list of English
and the corpus's main languages, serves every query; a query whose language is known also drops
that language's own (the Stopwords ISO lists of the PyPI package stopwordsiso): "utan" in a
Swedish query never makes a match alone. English keeps the short list: the ISO one (1,298 words)
drops terms that matter to SciFact and NFCorpus."""

from functools import cache

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not now
of off on once only or other our ours out over own same she should so some such than that the their
them then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours
de la le les des du un une et en est pour par sur au aux dans que qui ne pas plus
el los las del y un una por con para es al lo se su
der die das den dem des und ein eine ist im zu mit von auf für nicht sich
il lo gli di da per con che non una uno della delle dei
och att det som en ett av för med på är till om
het een van en op te voor met zijn niet
""".split())


@cache
def stopwords(language: str | None) -> frozenset[str]:
    """The words a query in `language` (None: unsure) leaves out of its keyword ranking."""
    if language in (None, "en"):
        return STOPWORDS
    import stopwordsiso  # 0.1 s; only queries in other languages need it

    return STOPWORDS | (frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language) else frozenset())
