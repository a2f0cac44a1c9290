"""The API's base views (base.py), on which each app builds its endpoints, and the API
tokens' own endpoints. Access is decided by permissions.LevelPermission from each view's
level_actions."""
