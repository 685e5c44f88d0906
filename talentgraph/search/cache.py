"""A bounded, thread-safe least-recently-used map for what repeats from one search to the next:
compiled query trees, plans of a query text, vocabulary labels. Searches run on worker threads
(``run_sync``), so every read and write takes the lock."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"LRU size {size} is not positive.")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value cached under ``key``, or ``make()``'s (cached; an exception is not)."""
        with self._lock:
            found = self._items.get(key, _MISSING)
            if found is not _MISSING:
                self._items.move_to_end(key)
                return found  # type: ignore[return-value]
        value = make()
        self.put(key, value)
        return value

    def get(self, key: K) -> V | None:
        # One lookup and the move, not three hashings of the key: keys are tuples (their hash is not kept), and
        # a search page asks for ~80 of them.
        with self._lock:
            found = self._items.get(key, _MISSING)
            if found is _MISSING:
                return None
            self._items.move_to_end(key)
            return found  # type: ignore[return-value]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["LRU"]
