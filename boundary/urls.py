from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from requests_log import views as record_views

from . import views

account_patterns = (
    [
        # Saving a profile re-plans reminders: the record's app serves the page.
        path("profile/", record_views.profile, name="profile"),
        path("accounts/", views.account_list, name="account-list"),
        # Linking, changing and removing an account are dated on the record: the
        # record's app serves them.
        path("accounts/new/", record_views.account_create, name="account-create"),
        path("accounts/<int:pk>/", record_views.account_edit, name="account-edit"),
        path("accounts/<int:pk>/remove/", record_views.account_remove, name="account-remove"),
        path("security/", views.two_factor, name="two-factor"),
        path("security/set-up/", views.two_factor_setup, name="two-factor-setup"),
        path("security/recovery-codes/", views.recovery_codes, name="recovery-codes"),
        path("security/turn-off/", views.two_factor_disable, name="two-factor-disable"),
        path(
            "verify-email/send/",
            views.email_verification_resend,
            name="email-verification-resend",
        ),
    ],
    "boundary",
)

urlpatterns = [
    path("", include("requests_log.urls")),
    path("", include("requests_log.exports.urls")),
    path("team/", include("requests_log.manager.urls")),
    path("hr/", include("requests_log.hr.urls")),
    path("me/", include(account_patterns)),
    path("signup/", views.signup, name="signup"),
    path("signup/verify/<str:token>/", views.email_verify, name="email-verify"),
    path("signup/invite/<str:token>/", views.signup_invitation, name="signup-invitation"),
    path("people/invite/", views.people_invite, name="people-invite"),
    path("people/manager/", views.people_manager, name="people-manager"),
    path("health/", views.health, name="health"),
    # A password, then (for people with an authenticator) a code.
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code, name="login-code"),
    # Django's other account pages; its own login route would only shadow the one above.
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
]
