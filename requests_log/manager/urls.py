from django.urls import path

from . import views

app_name = "manager"

urlpatterns = [
    path("", views.filed_list, name="filed-list"),
    path("file/", views.file_choose, name="file-choose"),
    path("file/<int:employee_pk>/", views.file_create, name="file-create"),
    path("requests/<int:pk>/", views.filed_detail, name="filed-detail"),
    path("requests/<int:pk>/withdraw/", views.filed_withdraw, name="filed-withdraw"),
]
