"""The web app for people: users, memberships with Klaviyo's roles, sessions, invitations, and
the single-page app served at /app."""
