import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
application = get_wsgi_application()

from erp1688.embedded_redis import ensure_embedded_redis_for_settings  # noqa: E402

ensure_embedded_redis_for_settings()
