"""Search: from a query to ranked documents, as one pipeline. The query is read once into a
`Query` (query: cleaning, language, spelling, words and phrases, coverage, vector), ranked
(ranking: by meaning and by words, grouped by document, fused), then presented (pipeline:
results with highlighted snippets; facets: counts per filter value). Knows nothing of matching,
notes or the workspace."""

from kb.search.facets import FACETS, facet_counts
from kb.search.highlight import plain, snippet
from kb.search.pipeline import (MAX_K, MODES, Rankings, SearchResponse, SearchResult, check_filters, check_k,
                                check_mode, rank, result, search, weak_match)
from kb.search.query import (MAX_QUERY, ParsedQuery, Query, QueryReader, SearchError, clean_query, parse_query,
                             query_language)
from kb.search.ranking import DEPTH, KEYWORD_WEIGHT, Hits, Ranking, by_document, dense_passages, fuse, keyword_weight
from kb.search.spelling import Speller, Spelling
from kb.search.stopwords import STOPWORDS, stopwords

__all__ = [
    "DEPTH", "FACETS", "Hits", "KEYWORD_WEIGHT", "MAX_K", "MAX_QUERY", "MODES", "ParsedQuery", "Query", "QueryReader",
    "Ranking", "Rankings", "STOPWORDS", "SearchError", "SearchResponse", "SearchResult", "Speller", "Spelling",
    "by_document", "check_filters", "check_k", "check_mode", "clean_query", "dense_passages", "facet_counts", "fuse",
    "keyword_weight", "parse_query", "plain", "query_language", "rank", "result", "search", "snippet", "stopwords",
    "weak_match",
]
