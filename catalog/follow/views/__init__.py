"""The follow pages: link coverage, linking an offer and mapping its SKUs (links.py), the rule
editor with its dry run (rule_editor.py), the margin report (margins.py), the approval inbox
and the history with undo (changes.py). Thin views over catalog/follow/selectors.py,
pages_support.py, services.py and rules.py."""

VIEW = "catalog.view_sourcelink"
VIEW_RULES = "catalog.view_followrule"
