from django.apps import AppConfig


class TidbokConfig(AppConfig):
    """The project package as an app, for the pages every surface shares: the layout, the
    login, the language switch."""

    name = "tidbok"
    verbose_name = "Tidbok"

    def ready(self):
        from .redact import install

        install()  # R24: no personnummer in any log line
