"""The API's endpoints: thin views that parse input, call one service or selector, and
render. Access is decided by permissions.LevelPermission from each view's level_actions."""
