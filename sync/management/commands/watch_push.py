"""Hold the 1688 message channel (WebSocket): `python manage.py watch_push` (a Procfile
process). Replays missed messages on start and after each reconnect (catalog/watch/push_ws.py)."""

import signal

from django.core.management.base import BaseCommand, CommandError

from catalog.watch.push_ws import ConnectRefused, PushChannel


class Command(BaseCommand):
    help = (
        "Hold the 1688 message push WebSocket (OPEN1688_PUSH_WS_URL): store each message, queue "
        "a re-read of the watched offers it names, confirm it; reconnect with backoff."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="WebSocket URL (default: the setting)")

    def handle(self, *args, **options):
        channel = PushChannel(url=options["url"] or None)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: channel.stop())
        self.stdout.write(f"Holding the 1688 message channel {channel.url} (Ctrl-C stops).")
        try:
            channel.run()
        except ConnectRefused as refused:
            raise CommandError(f"1688 refused the connection: {refused}") from refused
        stats = channel.stats
        self.stdout.write(
            f"Stopped: {stats.connects} connection(s), {stats.messages} message(s), "
            f"{stats.duplicates} duplicate(s), {stats.confirms} confirmed."
        )
