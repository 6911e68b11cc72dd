#!/usr/bin/env python
import os
import sys

# Commands that never talk to Redis: they leave the embedded server alone.
NO_REDIS_COMMANDS = {"check", "makemigrations", "makemessages", "compilemessages", "help"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1 and sys.argv[1] not in NO_REDIS_COMMANDS:
        from erp1688.embedded_redis import ensure_embedded_redis_for_settings

        ensure_embedded_redis_for_settings()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
