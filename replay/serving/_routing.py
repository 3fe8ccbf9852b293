"""The one routing of a fake monitor: a request and the serving state in, an answer out."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from replay.serving._clock import Clock
from replay.serving._copies import CopyTable
from replay.serving._copy import copy_answer
from replay.serving._items import item_answer, item_job_id
from replay.serving._jobs import JobTable, Mode
from replay.serving._messages import Answer, Request, error_answer
from replay.serving._urls import copy_request_matches, job_id_from_path
from replay.simulate.timeline import Timeline

__all__ = ["DEFAULT_DIALECT", "ServingState", "route"]

#: The URL shape of a timeline that names no dialect.
DEFAULT_DIALECT = "graph"


class ServingState(Protocol):
    """The serving state routing reads: the jobs, the defaults jobs may override, the URL base."""

    @property
    def jobs(self) -> JobTable: ...
    @property
    def copies(self) -> CopyTable: ...
    @property
    def base_url(self) -> str: ...

    mode: Mode
    speed: float
    retention_s: float
    reject_authorization: bool


def route(request: Request, state: ServingState, clock: Clock) -> Answer:
    """The answer of a fake monitor to ``request``, checked in the service's order.

    A copy call answers as its copy URL was told (:meth:`ServingCore.add_copy`), or starts a
    simulated job; the copied item a 303 named answers as the real one
    does (:func:`replay.serving._items.item_answer`); a path that is no monitor path is 404;
    then, as the real service authenticates before it looks anything up, ``Authorization`` is
    401; an unknown job 404; a method other than GET 405; wrong credentials 401; an expired
    monitor 404; and otherwise the job's timeline answers.
    """
    if request.method == "POST" and copy_request_matches(request.path):
        registered = state.copies.answer(request.path)
        return registered or copy_answer(request, lambda timeline: _add(state, timeline))
    item_of = item_job_id(request.path)
    if item_of is not None:
        owner = state.jobs.get(item_of)
        tempauth = owner.tempauth if owner is not None else None
        return item_answer(request, item_of, tempauth, state.reject_authorization)
    job_id = job_id_from_path(request.path)
    if job_id is None:
        answer = error_answer(404, "itemNotFound", "No monitor at this path")
        return dataclasses.replace(answer, target="other")
    job = state.jobs.get(job_id)
    if request.authorization_sent and state.reject_authorization:
        known = job_id if job is not None else None
        return error_answer(401, "unauthenticated", "Authentication failed", known)
    if job is None:
        return error_answer(404, "itemNotFound", "The monitor does not exist")
    if request.method != "GET":
        answer = error_answer(405, "methodNotAllowed", "A monitor URL answers GET only", job_id)
        return Answer(answer.status, (*answer.headers, ("Allow", "GET")), answer.body, job_id)
    if request.query_value("tempauth") != job.tempauth:
        return error_answer(401, "unauthenticated", "Authentication failed", job_id)
    mode, speed = job.mode or state.mode, job.speed or state.speed
    reply = job.reply(mode, speed, state.retention_s, clock.monotonic())
    if reply is None:
        return error_answer(404, "itemNotFound", "The monitor has expired", job_id)
    wall = speed if mode == "time" and job.wall_retry_after else 1.0
    return Answer(
        reply.status,
        reply.headers_at(clock.now(), wall),
        reply.body,
        job_id,
        reply.job_status,
        reply.delay_s,
        reply.drop,
    )


def _add(state: ServingState, timeline: Timeline) -> str:
    return state.jobs.add(state.base_url, timeline, timeline.dialect or DEFAULT_DIALECT)
