from django.apps import AppConfig


class TidbokConfig(AppConfig):
    """The project package as an app, for the pages every surface shares: the layout, the
    login, the language switch."""

    name = "tidbok"
    verbose_name = "Tidbok"
