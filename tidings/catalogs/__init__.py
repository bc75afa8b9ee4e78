"""Catalogs: items, variants, categories, bulk jobs, data feeds, back in stock."""
