from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from requests_log import views as record_views

from . import views
from .forms import LoginForm

account_patterns = (
    [
        # Saving a profile re-plans reminders: the record's app serves the page.
        path("profile/", record_views.profile, name="profile"),
        path("accounts/", views.account_list, name="account-list"),
        path("accounts/new/", views.account_create, name="account-create"),
        path("accounts/<int:pk>/", views.account_edit, name="account-edit"),
        path("accounts/<int:pk>/remove/", views.account_remove, name="account-remove"),
    ],
    "boundary",
)

urlpatterns = [
    path("", include("requests_log.urls")),
    path("", include("requests_log.exports.urls")),
    path("me/", include(account_patterns)),
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("", include("django.contrib.auth.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]
