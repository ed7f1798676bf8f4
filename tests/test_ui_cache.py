"""The app's byte-bounded cache: least recently used entries go first, and the sizes
of what it keeps never add up to more than its budget."""

from __future__ import annotations

import threading

from ui.cache import BytesBoundedCache


def test_entries_are_evicted_least_recently_used_first_to_stay_within_the_bytes():
    cache: BytesBoundedCache[str] = BytesBoundedCache(max_bytes=100)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("c", "C", 40)  # 120 > 100: b, the least recently used, goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert cache.nbytes == 80 and len(cache) == 2


def test_replacing_an_entry_counts_its_new_size_and_a_too_large_entry_is_not_kept():
    cache: BytesBoundedCache[str] = BytesBoundedCache(max_bytes=100)
    cache.put("a", "small", 10)
    cache.put("a", "bigger", 60)
    assert cache.nbytes == 60 and cache.get("a") == "bigger"
    cache.put("huge", "H", 101)
    assert cache.get("huge") is None and cache.get("a") == "bigger"


def test_many_threads_never_break_the_budget():
    cache: BytesBoundedCache[int] = BytesBoundedCache(max_bytes=1000)

    def fill(offset: int) -> None:
        for i in range(500):
            cache.put((offset, i), i, 7 + i % 13)
            cache.get((offset, i - 3))

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0 < cache.nbytes <= 1000
