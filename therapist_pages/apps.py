from django.apps import AppConfig


class TherapistPagesConfig(AppConfig):
    name = "therapist_pages"
    verbose_name = "Tidbok for therapists"
