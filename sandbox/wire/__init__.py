"""What every room of the sandbox speaks: WSGI requests and responses, the gateway error table,
1688 time stamps. Imports nothing else of the sandbox."""
