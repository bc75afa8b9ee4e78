"""Templates: Klaviyo's template language, the template API, and rendering for messages."""
