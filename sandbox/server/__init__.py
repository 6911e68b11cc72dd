"""The HTTP side: the threaded WSGI server, routing, the gateway's checks (signature, token,
rate limit, ACL), fault injection, the OAuth pages, message push delivery and the control API
under /_sandbox/."""
