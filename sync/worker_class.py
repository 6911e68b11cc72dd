"""The RQ worker classes the project runs (settings.RQ["WORKER_CLASS"], the tests' workers).

RQ's worker listens for commands (stop a job, shut down) in a pub/sub thread that waits up to
60 s per read. With redis-py 8, unsubscribing at the worker's end can leave that thread waiting
for a subscription that never comes, and the worker's exit joins it: a burst worker or a warm
shutdown then hangs up to a minute after its last job. Reading in 1 s slices bounds that wait to
a second, for one wake-up a second per worker.
"""

import rq

PUBSUB_READ_SECONDS = 1.0


class PromptExitMixin:
    def subscribe(self):
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_READ_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class Worker(PromptExitMixin, rq.Worker):
    """The forking worker of `manage.py rqworker`."""


class SimpleWorker(PromptExitMixin, rq.SimpleWorker):
    """The same, running jobs in its own process (the tests' in-process worker)."""
