"""Following suppliers: own offers linked to the supplier offers they are bought from, and rules
that keep their prices, stock and listing in step through the live-edit machinery
(targets.py the arithmetic, engine.py the engine, services.py and rules.py the writes,
selectors.py the reads)."""
