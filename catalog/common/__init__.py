"""Pieces every domain uses: the offer-reference parser, operator words, category names, and the
admin's shared mixins and labels."""
