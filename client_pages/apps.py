from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "client_pages"
    verbose_name = "Tidbok for clients"
