"""NGSI-LD subscriptions (ETSI GS CIM 009, clause 5.2.12): what a platform asked to be told, kept on disk.

A subscription names entity types (and optionally ids or an id pattern), optionally ``watchedAttributes``
and a ``q``, and an HTTP endpoint. The notifier (``feed/notifier.py``) follows the change feed from the
subscription's own cursor as its owner's role, and posts every matching change to the endpoint. The
cursor moves on only after the endpoint answered 2xx, and it is written to disk with the subscription,
so delivery is at least once across failures and restarts.

Endpoints are where this server sends data, so they are checked against ``notify_endpoints`` (URL
prefixes an administrator allows; empty: loopback addresses only): a caller cannot make the server
post the community's data, or probe the intranet, anywhere else.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from talentgraph.access.policy import RoleView
from talentgraph.access.principal import Principal
from talentgraph.access.records import readable_types
from talentgraph.feed.changes import Cursor
from talentgraph.feed.ngsild.errors import NgsiLdError, bad_request
from talentgraph.feed.ngsild.ids import URN_PREFIX, is_uri
from talentgraph.feed.ngsild.pattern import compile_pattern
from talentgraph.feed.ngsild.query import parse_q
from talentgraph.schema.ontology import Ontology

FILE = "subscriptions.json"
MAX_PER_OWNER = 100
MAX_BODY = 64 * 1024
FORMATS = ("normalized", "keyValues")
ACCEPTS = ("application/json", "application/ld+json")
SUBSCRIPTION_PREFIX = URN_PREFIX + "Subscription:"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_KNOWN = frozenset({"id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "q",
                    "notification", "expiresAt", "isActive", "throttling", "@context"})


@dataclass
class Delivery:
    """How delivery is going (CIM 009 NotificationParams' status members, plus the lag)."""

    status: str = "ok"  # ok | failed
    times_sent: int = 0
    times_failed: int = 0
    last_notification: str | None = None
    last_success: str | None = None
    last_failure: str | None = None
    last_error: str | None = None
    attempts: int = 0  # consecutive failures of the batch now pending


@dataclass
class Subscription:
    id: str
    owner: str
    role: str
    via: str
    entities: list[dict[str, str]]
    endpoint: str
    accept: str = "application/json"
    format: str = "normalized"
    attributes: list[str] | None = None
    watched: list[str] | None = None
    q: str | None = None
    name: str | None = None
    description: str | None = None
    expires_at: str | None = None
    active: bool = True
    throttling: float = 0.0
    created_at: str = ""
    cursor: str = ""  # the change-feed cursor notified up to
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def types(self) -> list[str]:
        return sorted({e["type"] for e in self.entities})

    def expired(self, now: dt.datetime) -> bool:
        if not self.expires_at:
            return False
        return dt.datetime.fromisoformat(self.expires_at.replace("Z", "+00:00")) <= now

    def to_ngsi(self, head_seq: int, oldest_pending: str | None) -> dict[str, Any]:
        """The subscription as CIM 009 shows it (with ``lag``: changes and seconds not yet notified)."""
        out: dict[str, Any] = {"id": self.id, "type": "Subscription", "entities": self.entities}
        if self.name:
            out["subscriptionName"] = self.name
        if self.description:
            out["description"] = self.description
        if self.watched:
            out["watchedAttributes"] = self.watched
        if self.q:
            out["q"] = self.q
        if self.expires_at:
            out["expiresAt"] = self.expires_at
        if self.throttling:
            out["throttling"] = self.throttling
        d = self.delivery
        seq = Cursor.decode(self.cursor).seq if self.cursor else 0
        lag_seconds = 0.0
        if oldest_pending:
            then = dt.datetime.fromisoformat(oldest_pending.replace("Z", "+00:00"))
            lag_seconds = max(0.0, (dt.datetime.now(dt.UTC) - then).total_seconds())
        notification: dict[str, Any] = {
            "format": self.format,
            "endpoint": {"uri": self.endpoint, "accept": self.accept},
            "status": d.status,
            "timesSent": d.times_sent,
            "timesFailed": d.times_failed,
            "lag": {"changes": max(0, head_seq - seq), "seconds": round(lag_seconds, 3), "notifiedUpTo": seq},
        }
        if self.attributes:
            notification["attributes"] = self.attributes
        for key, value in (("lastNotification", d.last_notification), ("lastSuccess", d.last_success),
                           ("lastFailure", d.last_failure), ("lastFailureReason", d.last_error)):
            if value:
                notification[key] = value
        out["notification"] = notification
        out["isActive"] = self.active
        out["status"] = "expired" if self.expired(dt.datetime.now(dt.UTC)) else "active" if self.active else "paused"
        out["createdAt"] = self.created_at
        return out


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- parsing a request --------------------------------------------------------------------------


def _strings(value: Any, param: str, *, limit: int = 100) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > limit \
            or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value):
        raise bad_request(param, value, f"a non-empty array of at most {limit} attribute names")
    return list(dict.fromkeys(value))


def endpoint_allowed(uri: str, allowed: Sequence[str]) -> bool:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    if not allowed:
        return parts.hostname in _LOOPBACK
    return any(uri.startswith(prefix) for prefix in allowed)


def parse_subscription(body: Any, *, owner: Principal, view: RoleView, ontology: Ontology,
                       allowed_endpoints: Sequence[str], cursor: str) -> Subscription:
    """A new subscription from a CIM 009 Subscription body, every member checked (BadRequestData naming it)."""
    if not isinstance(body, dict):
        raise bad_request("body", type(body).__name__, "a JSON object (a Subscription)")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise bad_request(unknown[0], body[unknown[0]], "a Subscription member this service supports: "
                          + ", ".join(sorted(_KNOWN - {"@context"})))
    if body.get("type") != "Subscription":
        raise bad_request("type", body.get("type"), '"Subscription"')
    sub_id = body.get("id") or f"{SUBSCRIPTION_PREFIX}{uuid.uuid4()}"
    if not isinstance(sub_id, str) or not is_uri(sub_id):
        raise bad_request("id", sub_id, "a URI such as urn:ngsi-ld:Subscription:my-venues")
    readable = {t.name for t in readable_types(view)}
    entities = body.get("entities")
    if not isinstance(entities, list) or not entities or len(entities) > 50:
        raise bad_request("entities", entities, "a non-empty array (at most 50) of {type, id?, idPattern?}")
    selectors: list[dict[str, str]] = []
    for i, e in enumerate(entities):
        where = f"entities[{i}]"
        if not isinstance(e, dict) or set(e) - {"type", "id", "idPattern"} or not isinstance(e.get("type"), str):
            raise bad_request(where, e, "an object with a type and optionally id or idPattern")
        if e["type"] not in ontology.node_names:
            raise bad_request(f"{where}.type", e["type"], "one of " + ", ".join(sorted(readable)))
        if e["type"] not in readable:
            raise NgsiLdError(403, f"{where}.type: the {view.role} role may not read {e['type']} entities.")
        sel = {"type": e["type"]}
        if "id" in e:
            if not isinstance(e["id"], str) or not is_uri(e["id"]):
                raise bad_request(f"{where}.id", e["id"], "an entity id (a URI)")
            sel["id"] = e["id"]
        if "idPattern" in e:
            pattern = e["idPattern"]
            if not isinstance(pattern, str):
                raise bad_request(f"{where}.idPattern", pattern, "a regular expression")
            compile_pattern(pattern)  # raises BadRequestData naming what it does not support
            sel["idPattern"] = pattern
        selectors.append(sel)
    watched = _strings(body["watchedAttributes"], "watchedAttributes") if "watchedAttributes" in body else None
    q = body.get("q")
    if q is not None:
        if not isinstance(q, str) or len(q) > 2000:
            raise bad_request("q", q, "a query of at most 2000 characters")
        parse_q(q)  # raises BadRequestData naming what does not parse
    notification = body.get("notification")
    if not isinstance(notification, dict):
        raise bad_request("notification", notification, "an object with an endpoint")
    extra = sorted(set(notification) - {"attributes", "format", "endpoint"})
    if extra:
        raise bad_request(f"notification.{extra[0]}", notification[extra[0]],
                          "one of attributes, format, endpoint")
    endpoint = notification.get("endpoint")
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str) or len(endpoint["uri"]) > 2000:
        raise bad_request("notification.endpoint", endpoint, "an object with a uri")
    uri = endpoint["uri"]
    if not endpoint_allowed(uri, allowed_endpoints):
        where_to = ", ".join(allowed_endpoints) if allowed_endpoints else "http(s) on a loopback address"
        raise bad_request("notification.endpoint.uri", uri,
                          f"an http(s) URL this server may post to ({where_to}; setting notify_endpoints)")
    accept = endpoint.get("accept", "application/json")
    if accept not in ACCEPTS:
        raise bad_request("notification.endpoint.accept", accept, " or ".join(ACCEPTS))
    fmt = notification.get("format", "normalized")
    if fmt not in FORMATS:
        raise bad_request("notification.format", fmt, " or ".join(FORMATS))
    attributes = _strings(notification["attributes"], "notification.attributes") \
        if "attributes" in notification else None
    expires = body.get("expiresAt")
    if expires is not None:
        try:
            moment = dt.datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        except ValueError:
            raise bad_request("expiresAt", expires, "an ISO 8601 date-time such as 2027-01-01T00:00:00Z") from None
        if moment.tzinfo is None:
            raise bad_request("expiresAt", expires, "a date-time with a time zone (Z for UTC)")
        expires = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    throttling = body.get("throttling", 0)
    if not isinstance(throttling, (int, float)) or isinstance(throttling, bool) or not 0 <= throttling <= 86400:
        raise bad_request("throttling", throttling, "seconds between notifications, 0 to 86400")
    active = body.get("isActive", True)
    if not isinstance(active, bool):
        raise bad_request("isActive", active, "true or false")
    for name in ("subscriptionName", "description"):
        if name in body and (not isinstance(body[name], str) or len(body[name]) > 500):
            raise bad_request(name, body[name], "text of at most 500 characters")
    return Subscription(id=sub_id, owner=owner.name, role=owner.role, via=owner.via, entities=selectors, endpoint=uri,
                        accept=accept, format=fmt, attributes=attributes, watched=watched, q=q,
                        name=body.get("subscriptionName"), description=body.get("description"), expires_at=expires,
                        active=active, throttling=float(throttling), created_at=now_iso(), cursor=cursor)


# --- the store ------------------------------------------------------------------------------------


class SubscriptionStore:
    """Subscriptions in one JSON file in the data dir, rewritten whole and atomically on every change."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE
        self._lock = threading.Lock()
        self._subs: dict[str, Subscription] = self._load()

    def _load(self) -> dict[str, Subscription]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        out: dict[str, Subscription] = {}
        for raw in data.get("subscriptions", []):
            delivery = Delivery(**raw.pop("delivery", {}))
            sub = Subscription(**raw, delivery=delivery)
            out[sub.id] = sub
        return out

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body = {"version": 1, "subscriptions": [asdict(s) for s in self._subs.values()]}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # readers and a crash see the old file or the new one, never half of one

    def all(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs.values())

    def visible_to(self, principal: Principal) -> list[Subscription]:
        """Admins see every subscription; anyone else their own."""
        return [s for s in self.all() if principal.role == "admin" or s.owner == principal.name]

    def get(self, sub_id: str, principal: Principal) -> Subscription:
        with self._lock:
            sub = self._subs.get(sub_id)
        if sub is None or not (principal.role == "admin" or sub.owner == principal.name):
            raise NgsiLdError("ResourceNotFound", f"No subscription {sub_id[:200]!r} is yours to read.")
        return sub

    def add(self, sub: Subscription) -> None:
        with self._lock:
            if sub.id in self._subs:
                raise NgsiLdError("AlreadyExists", f"A subscription with id {sub.id!r} exists already.")
            if sum(1 for s in self._subs.values() if s.owner == sub.owner) >= MAX_PER_OWNER:
                raise NgsiLdError("BadRequestData", f"{sub.owner} has {MAX_PER_OWNER} subscriptions already; "
                                  "delete one first.")
            self._subs[sub.id] = sub
            self._save()

    def remove(self, sub_id: str, principal: Principal) -> None:
        self.get(sub_id, principal)
        with self._lock:
            self._subs.pop(sub_id, None)
            self._save()

    def update(self, sub_id: str, **changes: Any) -> Subscription | None:
        """Apply ``changes`` (attributes of Subscription or, under ``delivery``, of Delivery) and save."""
        with self._lock:
            sub = self._subs.get(sub_id)
            if sub is None:
                return None  # deleted while a notification was in flight
            delivery = changes.pop("delivery", None)
            for key, value in changes.items():
                setattr(sub, key, value)
            if delivery:
                for key, value in delivery.items():
                    setattr(sub.delivery, key, value)
            self._save()
            return sub


def selector_matches(selectors: Iterable[Mapping[str, str]], type_name: str, urn: str) -> bool:
    for sel in selectors:
        if sel["type"] != type_name:
            continue
        if "id" in sel and sel["id"] != urn:
            continue
        if "idPattern" in sel and not compile_pattern(sel["idPattern"]).search(urn):
            continue
        return True
    return False
