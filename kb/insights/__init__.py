"""What the programme learns from itself, for the matching team and admins: the search log
(`log.py`, what is asked and how it went, never who asked), the knowledge gaps it shows
(`gaps.py`, searches nothing answers well, grouped by meaning), replication (`replication.py`,
which practices twins keep, adopt and write into final plans) and reach (`reach.py`, searches
per week, language and role; twins that logged in but keep nothing). The highest room: it reads
search, matching and the workspace's tables, and asks pilots for case notes through the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode
from typing import TYPE_CHECKING

from kb.accounts import MATCHING_ROLES, User
from kb.errors import Forbidden, Invalid, NotFound, Unauthenticated
from kb.inbox import Audience, recipients, tell
from kb.insights.gaps import DISTANCE, Gap, GapFinder, Gaps, cluster, load_clustering
from kb.insights.log import Asker, SearchLog, days_ago, new_name, text_hash
from kb.insights.reach import IdleTwin, Reach, Week, reach
from kb.insights.replication import COUNTS, GROUPINGS, Month, Replication, ReplicationRow, pilot_reach, replication
from kb.messages import Message

if TYPE_CHECKING:
    from kb.core import Core

__all__ = [
    "COUNTS", "DISTANCE", "GROUPINGS", "Asker", "Gap", "GapFinder", "Gaps", "IdleTwin", "Insights", "Month", "Period",
    "Reach", "Replication", "ReplicationRow", "SearchLog", "Week", "cluster", "csv_table", "days_ago", "load_clustering", "new_name",
    "pilot_reach", "reach", "replication", "text_hash",
]

DEFAULT_DAYS = 90  # the period a page shows unless asked otherwise


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # the last day included

    @property
    def bounds(self) -> tuple[str, str]:
        """[since, until + 1 day) as the log's timestamps compare."""
        return self.since.isoformat(), (self.until + timedelta(days=1)).isoformat()

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None) -> Period:
        """The days from `since` to `until` (YYYY-MM-DD; by default the last DEFAULT_DAYS days)."""
        last = _date("until", until) if until else date.today()
        first = _date("since", since) if since else last - timedelta(days=DEFAULT_DAYS)
        if first > last:
            raise Invalid(Message("%(since)s is after until (%(until)s); give a period that starts before it ends",
                                  field="since", since=str(first), until=str(last)))
        return cls(first, last)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(Message("%(value)s is not a date; give it as YYYY-MM-DD, for example 2026-09-01", field=name,
                              value=repr(value))) from None


class Insights:
    """The figures, each for the matching team and admins only."""

    def __init__(self, kb: Core):
        self.kb = kb
        self.finder = GapFinder(kb)

    def prepare(self) -> None:
        """Find the default period's gaps now (a server does, in the background as it starts),
        so that the page's first view finds them ready."""
        if self.kb.store.search_log_state()[1]:
            self.finder.find(*Period.of().bounds)

    def gaps(self, user: User | None, period: Period, *, operator: bool = False) -> Gaps:
        """The period's gaps; `operator`: asked by the `kb` command, on the machine."""
        _allowed(user, operator)
        return self.finder.find(*period.bounds)

    def replication(self, user: User | None, by: str = "practice", since: str | None = None, *,
                    operator: bool = False) -> Replication:
        _allowed(user, operator)
        return replication(self.kb, by, _date("since", since).isoformat() if since else None)

    def reach(self, user: User | None, period: Period, *, operator: bool = False) -> Reach:
        _allowed(user, operator)
        return reach(self.kb, *period.bounds)

    def ask_for_note(self, user: User | None, gap_id: str, period: Period) -> tuple[Gap, int]:
        """Ask the pilots whose practices come closest to a gap to write a case note on it,
        through their inbox; the gap and how many accounts were asked."""
        gap = next((g for g in self.gaps(user, period).gaps if g.id == gap_id), None)
        if gap is None:
            raise NotFound(Message("this gap is no longer among the period's: new searches regrouped them; reload "
                                   "the page"))
        audience = Audience(cities=gap.pilots)
        asked = recipients(self.kb.store, audience, user)
        if not asked:
            raise Invalid(Message("no pilot city with an account has a practice close to this gap; "
                                  "take it to the programme's pilots another way"))
        text = Message("The knowledge base was asked %(n)s times for “%(gap)s” and had no good answer. Your "
                       "practices come closest: could you write a case note on it?", n=gap.searches, gap=gap.label)
        challenge = f"Twins ask: {gap.label}"
        with self.kb.store.write(documents=False) as tx:
            tell(tx, self.kb.store, audience, "request", text, f"/notes/new?{urlencode({'challenge': challenge})}", user)
        return gap, len(asked)


def _allowed(user: User | None, operator: bool = False) -> None:
    if operator:
        return
    if user is None:
        raise Unauthenticated(Message("log in with a matching team or admin account to see the insights"))
    if user.role not in MATCHING_ROLES:
        raise Forbidden(Message("the insights are for the matching team and admins"))


def csv_table(figures: Gaps | Replication | Reach) -> list[list]:
    """The header row, then a row per figure: the same for the CLI's --csv and the pages' CSV."""
    if isinstance(figures, Gaps):
        return [["searches", "weak", "label", "words", "languages", "domains", "pilots", "examples"],
                *([g.searches, g.weak, g.label, " ".join(g.words), " ".join(f"{k}:{n}" for k, n in g.languages),
                   "; ".join(g.domains), "; ".join(g.pilots), " | ".join(g.examples)] for g in figures.gaps)]
    if isinstance(figures, Replication):
        return [[figures.by, "label", *COUNTS, "twins"],
                *([r.key, r.label, *(getattr(r, c) for c in COUNTS), "; ".join(r.twins)] for r in figures.rows)]
    return [["week", "searches", "weak", "searches in a session", "followed by a kept practice", "languages", "roles"],
            *([w.week, w.searches, w.weak, w.visits, w.kept, " ".join(f"{k}:{n}" for k, n in w.languages.items()),
               " ".join(f"{k}:{n}" for k, n in w.roles.items())] for w in figures.weeks)]
