"""The therapist's pages (R1–R7, R10, R12–R15, R18, R23): server-rendered, thin over `domain`.
Placeholder views until issue 3 builds them."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def calendar(request):
    return render(request, "therapist_pages/placeholder.html", {"title": "Kalender"})


@login_required
def clients(request):
    return render(request, "therapist_pages/placeholder.html", {"title": "Klienter"})


@login_required
def settings_page(request):
    return render(request, "therapist_pages/placeholder.html", {"title": "Inställningar"})
