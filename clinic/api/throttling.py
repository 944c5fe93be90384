"""The API's per-user request budget (settings: DEFAULT_THROTTLE_CLASSES)."""

from array import array

from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's, the same times kept and the same decisions, with the history of the user's
    request times held as an array of floats rather than a list.

    The history travels through the cache (pickled) twice a request and holds every
    request of the window: at a budget lifted for a load test, thousands of floats, which
    cost several times more to pickle as a list than as an array (bench/RESULTS.md). A
    history stored as a list before reads the same."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = array("d", self.cache.get(self.key, ()))
        self.now = self.timer()
        # As DRF does: drop the requests older than the window, newest first.
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()
