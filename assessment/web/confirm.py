"""Asking before a destructive action without JS: the action's URL answers a GET with a page that
asks (templates/confirm.html), whose form POSTs back to the same URL, where the view acts."""

from __future__ import annotations

from flask import render_template, request


def ask_first(question: str, consequence: str, label: str, cancel: str, crumbs=()) -> str | None:
    """On a GET, the page that asks; on a POST, None: the view goes on and acts.

    Call it after the view's access checks and look-ups, so that both methods pass them (403, 404).
    ``crumbs`` is a list of (label, url) shown above the question; ``cancel`` is where Cancel goes.
    """
    if request.method == "POST":
        return None
    return confirm_page(question, consequence, label, cancel, crumbs)


def confirm_page(question: str, consequence: str, label: str, cancel: str, crumbs=(), hidden=None) -> str:
    """The page that asks, whose form POSTs ``hidden`` (a dict of field values) back to this URL:
    for an action that is itself a POST and asks only in some cases (``ask_first`` is for a GET)."""
    return render_template("confirm.html", question=question, consequence=consequence, label=label,
                           cancel=cancel, crumbs=crumbs, hidden=hidden or {})
