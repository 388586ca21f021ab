"""A shared crawl frontier in Redis that loses nothing when a crawl process stops or dies.

scrapy-redis (``scrapy_redis.scheduler.Scheduler``) keeps the queue and the dupefilter in Redis, so
several crawl processes started with the same crawl id split one source's pages. On its own it has
two gaps, both of which lose pages:

1. A process whose view of the queue is empty closes as "finished" although another process still
   has pages in flight whose callbacks will push new requests (shop pages found on an item page);
   those requests then sit in Redis with nobody left to fetch them.
2. A request popped by a process that is then killed (SIGKILL, power loss) is gone: it was removed
   from the queue and already marked seen in the dupefilter.

``SharedFrontier`` closes both with the reliable-queue pattern (and marks a request seen and queues
it in one atomic step): popping a request moves it, in one
atomic Lua script, from the queue into this process's *lease* hash
(``<queue key>:lease:<worker>``); it is removed from there only once Scrapy has finished with it
(download, callback and item pipeline done, so every request the callback yielded is already in the
queue) and the crawl's writer has committed its listings. Each
process refreshes ``<queue key>:alive:<worker>`` (expiry ``MARKWATCH_FRONTIER_LEASE`` seconds,
default 30). A process is idle only when the queue is empty and no *live* process holds a lease;
leases of a process whose alive key expired are put back into the queue (with their priority) by
whichever process notices first. A graceful stop (SIGTERM) finishes what is in flight, so nothing
is fetched twice; after a kill, the pages in flight at that moment are fetched once more by
another process (at-least-once), and none is lost.

Enabled by ``crawler.settings.redis_settings`` (``SCHEDULER``); requires Redis >= 2.6 (Lua).
"""
from __future__ import annotations

import logging
import os
import socket
import uuid

from scrapy_redis.scheduler import Scheduler

log = logging.getLogger("markwatch.crawler.frontier")

# KEYS[1] queue (sorted set, score = -priority), KEYS[2] this worker's lease hash; ARGV[1] lease id.
# The hash value is "<score>|<encoded request>" so that a requeue restores the priority.
_POP = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #got == 0 then return false end
redis.call('ZREM', KEYS[1], got[1])
redis.call('HSET', KEYS[2], ARGV[1], got[2] .. '|' .. got[1])
return got[1]
"""

# KEYS[1] dupefilter set, KEYS[2] queue; ARGV[1] fingerprint, ARGV[2] score, ARGV[3] encoded request.
# Seen-marking and queueing in one step: a process killed between the two would otherwise leave a
# page marked seen but never queued, and the re-fetch of its parent could not queue it again.
_ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# KEYS[1] queue, KEYS[2] a lease hash, KEYS[3] that worker's alive key (pass '' to force the
# requeue of one's own leases). Puts every lease back into the queue unless its worker is alive.
_REQUEUE = """
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local all = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #all, 2 do
  local v = all[i + 1]
  local bar = string.find(v, '|', 1, true)
  redis.call('ZADD', KEYS[1], tonumber(string.sub(v, 1, bar - 1)), string.sub(v, bar + 1))
  n = n + 1
end
redis.call('DEL', KEYS[2])
return n
"""


class SharedFrontier(Scheduler):
    """scrapy-redis scheduler with leases and liveness: see the module docstring.

    Settings: the scrapy-redis ones (``REDIS_URL``, ``SCHEDULER_QUEUE_KEY``, ``SCHEDULER_PERSIST`` ...;
    the queue class must be ``scrapy_redis.queue.PriorityQueue``) and ``MARKWATCH_FRONTIER_LEASE``
    (seconds a silent process keeps its leases; default 30).
    """

    def __init__(self, *a, lease_seconds: float = 30.0, **kw):
        super().__init__(*a, **kw)
        self.lease_seconds = max(2.0, float(lease_seconds))
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.crawler = None
        self._held: dict[str, object] = {}  # lease id -> the Request object Scrapy holds
        self._finished: list[tuple[float, str]] = []  # (monotonic time finished, lease id), not committed yet
        self._beat = None

    @classmethod
    def from_crawler(cls, crawler):
        inst = super().from_crawler(crawler)
        inst.lease_seconds = max(2.0, crawler.settings.getfloat("MARKWATCH_FRONTIER_LEASE", 30.0))
        inst.crawler = crawler
        return inst

    # -- keys ---------------------------------------------------------------------------------
    def _lease_key(self, worker: str) -> str:
        return f"{self.queue.key}:lease:{worker}"

    def _alive_key(self, worker: str) -> str:
        return f"{self.queue.key}:alive:{worker}"

    # -- lifecycle ----------------------------------------------------------------------------
    def open(self, spider):
        super().open(spider)
        from scrapy_redis.queue import PriorityQueue

        if not isinstance(self.queue, PriorityQueue):
            raise ValueError("crawler.frontier.SharedFrontier needs SCHEDULER_QUEUE_CLASS = "
                             f"scrapy_redis.queue.PriorityQueue, not {type(self.queue).__name__}")
        self._pop = self.server.register_script(_POP)
        self._requeue = self.server.register_script(_REQUEUE)
        self._enqueue = self.server.register_script(_ENQUEUE)
        self.heartbeat()
        self.requeue_dead()
        from twisted.internet import task

        self._beat = task.LoopingCall(self.heartbeat)
        self._beat.start(min(2.0, self.lease_seconds / 3.0), now=False)

    def close(self, reason):
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self.settle(final=True)
        # Scrapy has finished everything it popped by now; anything still leased goes back.
        n = self._requeue(keys=[self.queue.key, self._lease_key(self.worker), ""])
        if n:
            log.warning("frontier: %d unfinished request(s) put back in the shared queue", n)
        self.server.delete(self._alive_key(self.worker))
        # Without SCHEDULER_PERSIST the last process out clears the frontier, never one that leaves
        # while others still crawl it (that would drop their queue and dupefilter under them).
        if not self.persist and not any(True for _ in self.server.scan_iter(
                match=f"{self.queue.key}:alive:*", count=100)):
            self.flush()

    def heartbeat(self) -> None:
        """Refresh this process's alive key and drop the leases of requests Scrapy has finished."""
        try:
            self.server.set(self._alive_key(self.worker), "1", px=int(self.lease_seconds * 1000))
            self.settle()
        except Exception as e:  # Redis briefly away: the next beat retries; leases stay safe in Redis
            log.error("frontier heartbeat failed: %s", e)

    # -- queue --------------------------------------------------------------------------------
    def enqueue_request(self, request) -> bool:
        data = self.queue._encode_request(request)
        if request.dont_filter:
            self.server.zadd(self.queue.key, {data: -request.priority})
        elif not self._enqueue(keys=[self.df.key, self.queue.key],
                               args=[self.df.request_fingerprint(request), -request.priority, data]):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        return True

    def next_request(self):
        self.settle()
        lease = uuid.uuid4().hex
        data = self._pop(keys=[self.queue.key, self._lease_key(self.worker)], args=[lease])
        if not data:
            return None
        request = self.queue._decode_request(data)
        self._held[lease] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis", spider=self.spider)
        return request

    def _in_progress(self):
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(engine, "_slot", None)
        if slot is None or not hasattr(slot, "inprogress"):
            return None
        return slot.inprogress

    def settle(self, final: bool = False) -> None:
        """Release the leases of requests Scrapy has finished (download, callback and item pipeline
        done) whose listings the crawl's writer has committed since. The crawl process sets
        ``crawler.markwatch_commit_clock`` (monotonic time of the writer's last commit); without it a
        finished request is released at once. ``final`` (graceful close; the writer commits right
        after) releases every finished request."""
        import time

        if self._held:
            inprogress = self._in_progress()
            live = {id(r) for r in inprogress} if inprogress is not None else set()
            now = time.monotonic()
            for k in [k for k, r in self._held.items() if id(r) not in live]:
                del self._held[k]
                self._finished.append((now, k))
        if not self._finished:
            return
        clock = getattr(self.crawler, "markwatch_commit_clock", None)
        if final or clock is None:
            done, self._finished = [k for _, k in self._finished], []
        else:
            committed = clock()
            done = [k for t, k in self._finished if t < committed]
            self._finished = [(t, k) for t, k in self._finished if t >= committed]
        if done:
            self.server.hdel(self._lease_key(self.worker), *done)

    def requeue_dead(self) -> int:
        """Put back the leases of processes whose alive key has expired; returns how many requests."""
        total = 0
        prefix = f"{self.queue.key}:lease:"
        for key in self.server.scan_iter(match=prefix + "*", count=100):
            key = key.decode() if isinstance(key, bytes) else key
            worker = key[len(prefix):]
            if worker == self.worker:
                continue
            n = self._requeue(keys=[self.queue.key, key, self._alive_key(worker)])
            if n and n > 0:
                log.warning("frontier: crawl process %s stopped answering; %d request(s) it held are "
                            "back in the shared queue", worker, n)
                total += n
        return total

    def others_busy(self) -> bool:
        """True while another live process holds leases (its callbacks may still add requests)."""
        prefix = f"{self.queue.key}:lease:"
        for key in self.server.scan_iter(match=prefix + "*", count=100):
            key = key.decode() if isinstance(key, bytes) else key
            if key[len(prefix):] != self.worker and self.server.hlen(key) > 0:
                return True
        return False

    def has_pending_requests(self) -> bool:
        if len(self) > 0:
            return True
        self.settle()
        if self.requeue_dead() and len(self) > 0:
            return True
        return self.others_busy()
