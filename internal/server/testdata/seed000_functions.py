"""Runs seed 000's Azure Functions (NotificationHandler, PolicyStates)
unmodified, from the directory given as $STEWARD_SEED000_DIR/applications,
with a minimal stand-in for the azure.functions module.

usage: seed000_functions.py notify EVENTS.json | collect
Prints one JSON object: the handler's answers, or the collector's log.
"""
import collections
import collections.abc
import importlib.util
import json
import logging
import os
import sys
import types

# The seed targets Python 3.9: `from collections import AsyncIterable` is
# gone since 3.10 (its defect 10). Put the alias back, nothing else.
if not hasattr(collections, "AsyncIterable"):
    collections.AsyncIterable = collections.abc.AsyncIterable


class HttpRequest:
    """The part of azure.functions.HttpRequest the handler uses."""

    def __init__(self, method, url, body=b"", headers=None, params=None):
        self.method = method
        self.url = url
        self._body = body
        self.headers = headers or {}
        self.params = params or {}
        self.route_params = {}

    def get_body(self):
        return self._body

    def get_json(self):
        return json.loads(self._body)


class HttpResponse:
    """The part of azure.functions.HttpResponse the handler uses."""

    def __init__(self, body=None, status_code=200, headers=None, mimetype=None, charset=None):
        self.status_code = status_code
        self.body = body if isinstance(body, (bytes, type(None))) else str(body).encode()

    def get_body(self):
        return self.body or b""


class TimerRequest:
    past_due = False


functions = types.ModuleType("azure.functions")
functions.HttpRequest, functions.HttpResponse, functions.TimerRequest = HttpRequest, HttpResponse, TimerRequest
sys.modules["azure.functions"] = functions
import azure  # noqa: E402

azure.functions = functions


def load(name):
    path = os.path.join(os.environ["STEWARD_SEED000_DIR"], "applications", name, "__init__.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        if record.name == "root":
            self.records.append(record.levelname + " " + record.getMessage())


def main():
    cap = Capture()
    logging.getLogger().addHandler(cap)
    logging.getLogger().setLevel(logging.INFO)
    if sys.argv[1] == "notify":
        handler = load("NotificationHandler")
        with open(sys.argv[2]) as f:
            events = json.load(f)
        answers = []
        for ev in events:
            resp = handler.main(HttpRequest("POST", "https://functions.example/api/resource", json.dumps(ev).encode()))
            answers.append({"status": resp.status_code, "body": resp.get_body().decode(errors="replace")})
        print(json.dumps({"answers": answers, "log": cap.records}))
    else:
        load("PolicyStates").main(TimerRequest())
        print(json.dumps({"log": cap.records}))


main()
