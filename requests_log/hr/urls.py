from django.urls import path

from . import views

app_name = "hr"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("export/", views.export_csv, name="export"),
]
