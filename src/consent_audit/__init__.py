"""consent-audit: why Recruitee can or cannot sync Microsoft 365 mail, calendars and rooms."""

__version__ = "0.1.0"
