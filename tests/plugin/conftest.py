"""pytester runs the plugin as a user's test session would."""

pytest_plugins = ["pytester"]
