"""Tidings: a self-hosted customer data and marketing automation platform that speaks Klaviyo's API."""

__version__ = "0.1.0"
