from django.apps import AppConfig


class TidbokConfig(AppConfig):
    """The project package as an app, for the pages every surface shares: the layout, the
    login, the language switch."""

    name = "tidbok"
    verbose_name = "Tidbok"

    def ready(self):
        from domain.links import register

        from .links import PageLinks
        from .redact import install

        install()  # R24: no personnummer in any log line
        register(PageLinks())  # the pages the domain's mails link to
