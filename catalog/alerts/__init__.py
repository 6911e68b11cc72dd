"""Alerts: rules staff set on price and stock moves and on failures, evaluated as change rows
arrive; the inbox; alert emails."""
