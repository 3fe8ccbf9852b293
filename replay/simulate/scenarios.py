"""The scenario catalogue: named copy-job behaviours from the protocol reference, as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DIALECT_SHAPES", "SCENARIOS", "DialectShape", "Phase", "Scenario"]

#: The error bodies of the reference whose codes a status-less 401, 404 or 500 carries.
UNAUTHENTICATED = ("unauthenticated", "Authentication failed")
ITEM_NOT_FOUND = ("itemNotFound", "The resource could not be found.")
OPERATION_NOT_FOUND = ("operationNotFound", "The operation does not exist.")


@dataclass(frozen=True)
class Phase:
    """A run of consecutive responses of one kind within a job.

    Rows: ``rows`` (inclusive range; 0 means the phase may be absent) or, when ``share`` > 0, that
    share of the job's progress polls (at least ``rows[0]``). Time between polls: ``span_s`` (the
    whole phase's duration), ``gap_s`` (each gap), else the job's poll interval. ``move``: the
    copy progresses during the gap before each row. ``pct``: ``curve`` (the job's progress),
    ``zero``, ``ceiling`` (the final percentage), ``none``, ``nan``, ``value`` (from
    ``value``) or ``dip`` (below the previous one). ``http``: ``progress``, ``final``,
    ``failure`` (200 or 500) or a code. ``body`` and ``errors`` are drawn per row.
    """

    status: str | None
    rows: tuple[int, int] = (1, 1)
    share: float = 0.0
    span_s: tuple[float, float] | None = None
    gap_s: tuple[float, float] | None = None
    move: bool = False
    pct: str = "curve"
    value: tuple[float, float] = (0.0, 0.0)
    http: str | int = "progress"
    body: tuple[str, ...] = ("json",)
    errors: tuple[tuple[str, str], ...] = ()
    retry: bool = False
    drop: bool = False
    delay_s: tuple[float, float] = (0.0, 0.0)
    skew_s: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Scenario:
    """A named job behaviour and what the engine must find for one job of it.

    ``expected_violations``: the exact count per violation code under policy ``graph-beta``
    (docs/semantics.md); ``expected_outcome``: what ``summarize(obs, jobs=fleet.jobs)`` says.
    ``over_http``: whether the fake server can serve it to the recorder. ``weight`` 0: only
    when named (a quirk outside the default mix and check-poller's default run). ``ceiling`` is the
    percentage the job ends at, ``reach`` the share of the copy done when its timeline ends.
    ``policy_violations`` gives the exact counts under other bundled policies, by policy name.
    ``served_dialect``: the dialect the job answers in whatever dialect was asked for (None: the
    asked one), as a v2.0 copy that got a v2.1 monitor did.
    """

    name: str
    description: str
    evidence: str
    weight: float
    expected_outcome: str
    expected_violations: Mapping[str, int]
    over_http: bool = True
    phases: tuple[Phase, ...] = ()
    ceiling: tuple[float, float] = (100.0, 100.0)
    reach: tuple[float, float] = (1.0, 1.0)
    operation: str = "ItemCopy"
    policy_violations: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    served_dialect: str | None = None

    def __post_init__(self) -> None:
        frozen = {k: MappingProxyType(dict(v)) for k, v in self.policy_violations.items()}
        object.__setattr__(
            self, "expected_violations", MappingProxyType(dict(self.expected_violations))
        )
        object.__setattr__(self, "policy_violations", MappingProxyType(frozen))


@dataclass(frozen=True)
class DialectShape:
    """How a dialect answers: HTTP codes in progress, at completion and on the first poll.

    ``first_http`` (when set) replaces the code of the first poll's status answer;
    ``monitor_url`` is the redacted shape stored in ``jobs.url``; ``item_url`` a 303 Location:
    with a ``tempauth`` the copied item is readable without a bearer token (the ``force303=1``
    URL of onedrive-api-docs#762), without one it is not (the 2015-2017 docs' item URL).
    """

    name: str
    progress_http: int
    final_http: int
    first_http: int | None
    monitor_url: str
    item_url: str


_SP = "https://contoso.sharepoint.com"
_ITEM = _SP + "/_api/v2.0/drives/b!{drive}/items/{item}?force303=1&tempauth={tempauth}"
#: Monitor URLs as stored in ``jobs.url``: credentials already redacted (reference section 1.2).
DIALECT_SHAPES: Mapping[str, DialectShape] = MappingProxyType(
    {
        "legacy": DialectShape(
            "legacy",
            202,
            303,
            None,
            "https://api.onedrive.com/monitor/{id}",
            # The 2015-2017 docs' item URL carries no credential: it needs a bearer token.
            "https://api.onedrive.com/v1.0/drives/{drive}/items/{item}",
        ),
        "graph": DialectShape("graph", 202, 202, None, _SP + "/_api/v2.0/monitor/{id}", _ITEM),
        "sharepoint-v21": DialectShape(
            "sharepoint-v21",
            200,
            200,
            None,
            "https://contoso-my.sharepoint.com/personal/user_contoso_com/_api/v2.1/drive/"
            "operations/{id}?c=REDACTED&v=2.0&tempauth=REDACTED",
            _ITEM,
        ),
        "consumer": DialectShape(
            "consumer", 200, 200, 202, "https://api.onedrive.com/v1.0/monitor/{id}", _ITEM
        ),
    }
)


def _queue(rows: tuple[int, int] = (0, 3), span_s: tuple[float, float] = (5, 600)) -> Phase:
    """``notStarted`` at 0 % while the job waits in the queue."""
    return Phase("notStarted", rows, span_s=span_s, pct="zero")


def _progress(share: float, min_rows: int = 1, **kw: object) -> Phase:
    """``inProgress`` with a rising percentage: ``share`` of the job's progress polls."""
    return Phase("inProgress", (min_rows, min_rows), share=share, move=True, **kw)  # type: ignore[arg-type]


def _hold(status: str | None, rows: tuple[int, int], **kw: object) -> Phase:
    """Responses during which the copy does not progress."""
    return Phase(status, rows, **kw)  # type: ignore[arg-type]


_DONE = Phase("completed", move=True, pct="ceiling", http="final")
_BRIEF = (5.0, 600.0)  # plateaus far under stall_after_s (1800 s) even with jitter
_QUICK = (2.0, 30.0)  # a poller retrying a bad answer soon
_FAILURES = (
    ("nameAlreadyExists", "Name already exists"),
    ("accessDenied", "Access denied"),
    ("AccessDenied_CrossDriveCopy", "The item is not shared between the drives"),
    ("quotaLimitReached", "Insufficient Space Available"),
    ("generalException", "Errors occurred during copy/move operation."),
)
_STATUSLESS = (("", ""), ("generalException", "An unspecified error occurred."))


_CATALOGUE = (
    Scenario(
        name="happy_path",
        description="Maybe a short notStarted, inProgress rising, completed at 100.",
        evidence="Graph long-running-actions-overview fixture (202, inProgress 27.8, completed 100)",
        weight=50,
        expected_outcome="completed",
        expected_violations={},
        phases=(_queue(), _progress(1.0, 2), _DONE),
    ),
    Scenario(
        name="instant_complete",
        description="A small copy that is already completed at the first poll.",
        evidence="onedrive-api-docs#852 and #762 (fast copies done before the first poll) [INF]",
        weight=3,
        expected_outcome="completed",
        expected_violations={},
        phases=(_DONE,),
    ),
    Scenario(
        name="slow_queue",
        description="notStarted at 0.0 for 40-60 minutes, then inProgress and completed.",
        evidence="onedrive-api-docs#306 (DownloadUrl notStarted ~45 min, percentage always 0.0)",
        weight=3,
        expected_outcome="completed",
        expected_violations={"stalled": 1},
        phases=(_queue((10, 30), (2400, 3600)), _progress(1.0, 2), _DONE),
        operation="DownloadUrl",
    ),
    Scenario(
        name="stuck_percentage",
        description="inProgress stuck at one percentage for 40-60 minutes, then on to completed.",
        evidence="onedrive-api-docs#306 (stuck percentage); onedrive-sdk-ios#51 (not updating)",
        weight=2,
        expected_outcome="completed",
        expected_violations={"stalled": 1},
        phases=(
            _progress(0.4, 2),
            _hold("inProgress", (10, 30), span_s=(2400, 3600)),
            _progress(0.6, 2),
            _DONE,
        ),
    ),
    Scenario(
        name="zero_then_hundred",
        description="inProgress at 0 only (under 25 minutes), then completed at 100.",
        evidence="onedrive-sdk-ios#51 (monitor status api isn't updating the percentage correctly)",
        weight=3,
        expected_outcome="completed",
        expected_violations={},
        phases=(_hold("inProgress", (3, 20), span_s=(30, 1200), pct="zero"), _DONE),
    ),
    Scenario(
        name="waiting_retry",
        description="inProgress, interrupted (waiting), resumed, completed.",
        evidence="OneDrive asyncJobStatus doc 2021 (waiting: interrupted, will be tried again); "
        "never reported live [GUESS]",
        weight=2,
        expected_outcome="completed",
        expected_violations={},
        phases=(
            _progress(0.5, 2),
            _hold("waiting", (1, 4), span_s=_BRIEF),
            _progress(0.5, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="updating_phase",
        description="inProgress, a short updating phase at 100, completed.",
        evidence="onedrive-sdk-python enum comment 'The operation is updating' only [GUESS]",
        weight=2,
        expected_outcome="completed",
        expected_violations={},
        phases=(
            _progress(1.0, 2),
            _hold("updating", (1, 4), span_s=_BRIEF, pct="ceiling"),
            _DONE,
        ),
    ),
    Scenario(
        name="failed_with_error",
        description="inProgress, then failed with an error code, as 200 or 500 JSON.",
        evidence="beta driveitem-copy Example 3 (nameAlreadyExists); onedrive-api-docs#1306 "
        "(failed with 200); rclone#1224 (500 with a JSON body); rclone api/types.go (errorCode "
        "AccessDenied_*, undocumented)",
        weight=4,
        expected_outcome="failed",
        expected_violations={},
        phases=(
            _queue((0, 2)),
            _progress(1.0, 1),
            Phase("failed", http="failure", errors=_FAILURES),
        ),
        reach=(0.05, 0.95),
    ),
    Scenario(
        name="delete_failed",
        description="inProgress, deletePending, deleteFailed.",
        evidence="onedrive-sdk-python enum comments only; never reported live [GUESS]",
        weight=1,
        expected_outcome="delete_failed",
        expected_violations={},
        phases=(
            _progress(1.0, 2),
            _hold("deletePending", (1, 3), span_s=_BRIEF),
            Phase("deleteFailed", http="failure"),
        ),
        reach=(0.1, 0.9),
    ),
    Scenario(
        name="regression",
        description="One drop of the percentage mid-copy, then rising again to completed.",
        evidence="not found for Graph; seen in other copy tools (FredHutch/motuz#355) [GUESS]",
        weight=1,
        expected_outcome="completed",
        expected_violations={"pct_regression": 1},
        phases=(
            _progress(0.5, 2),
            _hold("inProgress", (1, 1), pct="dip"),
            _progress(0.5, 2),
            _DONE,
        ),
    ),
    Scenario(
        name="unknown_status",
        description="inProgress, cancelPending for a while, cancelled (outside graph-beta).",
        evidence="onedrive-api-docs PR #1540, 2021 (cancelled and cancelPending documented)",
        weight=1,
        expected_outcome="cancelled",
        expected_violations={"unknown_status": 2, "no_terminal": 1},
        phases=(
            _progress(1.0, 2),
            _hold("cancelPending", (1, 4), span_s=_BRIEF),
            _hold("cancelled", (1, 1)),
        ),
        reach=(0.1, 0.9),
        policy_violations={"onedrive": {}},
    ),
    Scenario(
        name="out_of_range_pct",
        description="One percentage of 130 and one of -5 among valid rising ones, completed at 100.",
        evidence="protocol reference 5.1 item 7 (out-of-range or NaN percentages) [GUESS]",
        weight=1,
        expected_outcome="completed",
        expected_violations={"pct_out_of_range": 2},
        phases=(
            _progress(0.35, 2),
            _hold("inProgress", (1, 1), pct="value", value=(130.0, 130.0)),
            _progress(0.35, 1),
            _hold("inProgress", (1, 1), pct="value", value=(-5.0, -5.0)),
            _progress(0.3, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="no_terminal",
        description="inProgress rising; the recording stops at the recorder's deadline.",
        evidence="rclone#4058 (async operation didn't complete after 5m0s); opendal (1 h limit)",
        weight=2,
        expected_outcome="timed_out",
        expected_violations={"no_terminal": 1},
        phases=(_queue((0, 2)), _progress(1.0, 2)),
        reach=(0.2, 0.9),
    ),
    Scenario(
        name="throttled",
        description="Bursts of 429 with Retry-After (seconds, HTTP date or missing) between polls.",
        evidence="onedrive-api-docs#797 (429, Retry-After 41 then 315 s); Q&A 648796 (always "
        "2 minutes); rclone forum 26815 (sometimes no header)",
        weight=3,
        expected_outcome="completed",
        expected_violations={},
        phases=(
            _progress(0.4, 2),
            _hold(None, (1, 3), gap_s=_QUICK, http=429, body=("empty",), retry=True),
            _progress(0.3, 1),
            _hold(None, (1, 3), gap_s=_QUICK, http=429, body=("empty",), retry=True),
            _progress(0.3, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="server_errors",
        description="503 HTML pages, a 500 with a JSON status, a dropped connection, a slow answer.",
        evidence="rclone forum 26815 (HTML 503); rclone#1224 and the upload_url doc (500 with a "
        "JSON status); reference 5.1 item 6 (connection resets, slow responses)",
        weight=3,
        expected_outcome="completed",
        expected_violations={},
        phases=(
            _progress(0.25, 2),
            _hold(None, (1, 2), gap_s=_QUICK, http=503, body=("html",), retry=True),
            _progress(0.25, 1),
            _progress(0.0, 1, gap_s=_QUICK, http=500),
            _progress(0.25, 1),
            _hold(None, (1, 2), gap_s=_QUICK, http=502, body=("empty",), drop=True),
            _progress(0.25, 1),
            _progress(0.0, 1, delay_s=(0.2, 0.8)),
            _DONE,
        ),
    ),
    Scenario(
        name="expired_monitor",
        description="notStarted / inProgress, then 404: the monitor is gone before a terminal.",
        evidence="onedrive-api-docs#306 (404 instead of completed); api-guidelines LRO (24 h)",
        weight=2,
        expected_outcome="monitor_expired",
        expected_violations={"no_terminal": 1},
        phases=(_queue((1, 3)), _progress(1.0, 1), Phase(None, http=404, errors=(ITEM_NOT_FOUND,))),
        reach=(0.1, 0.8),
    ),
    Scenario(
        name="completed_early",
        description="completed at 96-99 % while the copy is still materialising.",
        evidence="onedrive-api-docs#1239 (completed, only the first file visible); "
        "rkhwaja/fs.onedrivefs#7",
        weight=2,
        expected_outcome="completed",
        expected_violations={"completed_not_100": 1},
        phases=(_progress(1.0, 2), _DONE),
        ceiling=(96.0, 99.0),
    ),
    Scenario(
        name="requeued",
        description="inProgress, back to notStarted (not allowed by graph-beta), completed.",
        evidence="reference 5.3 (re-queueing to notStarted is a guess) [GUESS]",
        weight=1,
        expected_outcome="completed",
        expected_violations={"illegal_transition": 1},
        phases=(
            _progress(0.5, 2),
            _hold("notStarted", (1, 3), span_s=_BRIEF),
            _progress(0.5, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="missing_status",
        description="One 200 JSON body without status ({} or an error object) mid-copy.",
        evidence="msgraph-sdk-dotnet#1797 (status-less body, AsyncMonitor loops); rclone "
        "waitForJob (error JSON without status: keeps polling)",
        weight=1,
        expected_outcome="completed",
        expected_violations={"missing_status": 1},
        phases=(
            _progress(0.5, 2),
            Phase(None, http=200, errors=_STATUSLESS),
            _progress(0.5, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="legacy_303",
        description="inProgress, then 303 See Other with only a Location (legacy completion).",
        evidence="OneDrive docs 2015-2017 (commit b3aa02a, misc/long-running-actions.md); "
        "onedrive-sdk-android AsyncMonitor (303 = completed)",
        weight=2,
        expected_outcome="completed",
        expected_violations={},
        phases=(_progress(1.0, 2), Phase(None, move=True, http=303, body=("empty",))),
    ),
    Scenario(
        name="unauthorized",
        description="401 unauthenticated from the first poll (tempauth expired, or a bearer sent).",
        evidence="msgraph-sdk-dotnet#1797; onedrive-api-docs#1057 (401 body); python-o365#872",
        weight=2,
        expected_outcome="unauthorized",
        expected_violations={"no_terminal": 1},
        phases=(Phase(None, http=401, errors=(UNAUTHENTICATED,)),),
    ),
    Scenario(
        name="protocol_error",
        description="200 responses with an HTML page or truncated JSON until the recorder gives up.",
        evidence="rclone waitForJob (a non-JSON body is a hard error); reference 5.1 item 6",
        weight=1,
        expected_outcome="protocol_error",
        expected_violations={"missing_status": 1, "no_terminal": 1},
        phases=(
            _progress(1.0, 1),
            _hold(None, (3, 6), gap_s=_QUICK, http=200, body=("html", "truncated")),
        ),
        reach=(0.1, 0.8),
    ),
    Scenario(
        name="operation_not_found",
        description="notStarted / inProgress, then 500 operationNotFound: the monitor forgot the "
        "copy (its name conflicted in the target folder).",
        evidence='onedrive-api-docs#766 (consumer: 500 {"error": {"code": '
        '"operationNotFound"}} at the end of a copy onto an existing name)',
        weight=1,
        expected_outcome="monitor_expired",
        expected_violations={"no_terminal": 1},
        phases=(
            _queue((0, 2)),
            _progress(1.0, 1),
            Phase(None, http=500, errors=(OPERATION_NOT_FOUND,)),
        ),
        reach=(0.1, 0.9),
    ),
    Scenario(
        name="v21_monitor_on_v20",
        description="A copy asked of /_api/v2.0/ answered with a v2.1 operations monitor: its URL, "
        "body shape and HTTP codes, whatever dialect was asked for.",
        evidence="onedrive-api-docs#919 (a v2.0 copy got a /_api/v2.1/drive/operations/ monitor "
        "whose body differs; Microsoft: the monitor URL should be opaque)",
        weight=1,
        expected_outcome="completed",
        expected_violations={},
        phases=(_queue(), _progress(1.0, 2), _DONE),
        served_dialect="sharepoint-v21",
    ),
    Scenario(
        name="never_starts",
        description="Accepted, then notStarted at 0.0 for ever: the copy never leaves the queue.",
        evidence="onedrive-api-docs#191 (a copy accepted that never starts); #306 (notStarted at "
        "0.0 for about 45 minutes)",
        weight=1,
        expected_outcome="timed_out",
        expected_violations={"stalled": 1, "no_terminal": 1},
        phases=(_queue((10, 30), (2400, 3600)),),
    ),
    Scenario(
        name="lowercase_operation",
        description="A plain copy whose bodies say operation itemCopy, with a lower-case i.",
        evidence="rkhwaja/fs.onedrivefs#11 (operation 'itemCopy' tripped an assertion on "
        "'ItemCopy')",
        weight=1,
        expected_outcome="completed",
        expected_violations={},
        phases=(_queue(), _progress(1.0, 2), _DONE),
        operation="itemCopy",
    ),
    Scenario(
        name="move_job",
        description="A move (PATCH of parentReference) run as a 202 long-running operation.",
        evidence="microsoft-graph-docs-contrib#290 (move answers 202 with a monitor Location, like "
        "copy); the operation name ItemMove is a guess [GUESS]",
        weight=1,
        expected_outcome="completed",
        expected_violations={},
        phases=(_queue(), _progress(1.0, 2), _DONE),
        operation="ItemMove",
    ),
    Scenario(
        name="after_terminal",
        description="completed, inProgress again, completed again (imported logs only).",
        evidence="no report; every client stops at a terminal status (reference 3.1) [GUESS]",
        weight=1,
        expected_outcome="completed",
        expected_violations={"after_terminal": 2},
        over_http=False,
        phases=(
            _progress(1.0, 2),
            _DONE,
            _hold("inProgress", (1, 2), span_s=(5, 300), pct="ceiling"),
            Phase("completed", pct="ceiling", http="final"),
        ),
    ),
    Scenario(
        name="clock_skew",
        description="One observation timestamped before the previous one (the recorder's clock).",
        evidence="a recorder-side fault (an NTP step on the recording host) [INF]",
        weight=1,
        expected_outcome="completed",
        expected_violations={"ts_not_increasing": 1},
        over_http=False,
        phases=(
            _progress(0.5, 2),
            _progress(0.0, 1, skew_s=(1.0, 30.0)),
            _progress(0.5, 1),
            _DONE,
        ),
    ),
    Scenario(
        name="nan_pct",
        description="One bare NaN percentage token (a body that is not JSON), completed at 100.",
        evidence="[QUIRK, by name only] Python's json.dumps writes NaN; strict parsers (JavaScript, "
        ".NET, Go, Rust) reject the body; no Microsoft service is known to send it",
        weight=0,
        expected_outcome="completed",
        expected_violations={"pct_out_of_range": 1},
        phases=(
            _progress(0.5, 2),
            _hold("inProgress", (1, 1), pct="nan"),
            _progress(0.5, 1),
            _DONE,
        ),
    ),
)

#: The scenario catalogue by name, in catalogue order.
SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _CATALOGUE})
