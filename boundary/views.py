import base64
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import selectors, services
from .forms import (
    CodeForm,
    InvitationForm,
    InvitedSignupForm,
    LoginForm,
    ManagerAssignForm,
    SignupForm,
)
from .http import AuthenticatedHttpRequest
from .middleware import SESSION_ENDED, session_keep
from .models import User

# Her linked accounts, a page at a time (a list page costs the same at any length).
ACCOUNTS_PAGE_SIZE = 25

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Between the password and the code: who passed the first step, and when.
LOGIN_PENDING = "boundary_login_pending"
LOGIN_PENDING_SECONDS = 5 * 60
# The unconfirmed authenticator shown on the set-up page.
SETUP_DEVICE = "boundary_setup_device"


def session_verified(user: User) -> bool:
    """Whether this request's session passed a second factor (django_otp's
    OTPMiddleware gives the signed-in user is_verified())."""
    return bool(getattr(user, "is_verified", lambda: False)())


# --- Sign-up ---------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    """Open sign-up, or a note that it is by invitation. A new and a registered address
    get the same "check your email" page (services.user_signup)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if settings.SIGNUP_MODE == "invite":
        return render(request, "registration/signup_invite_only.html")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            time_zone=form.cleaned_data["time_zone"],
        )
        return render(request, "registration/signup_done.html")
    return render(request, "registration/signup.html", {"form": form})


@never_cache
@sensitive_post_parameters("password1", "password2")
def signup_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_get_pending(token=token)
    if invitation is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = InvitedSignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ValidationError:
            return render(request, "registration/invitation_invalid.html", status=404)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, "Welcome. Start by linking the accounts you keep personal.")
        return redirect("boundary:account-list")
    return render(request, "registration/signup.html", {"form": form, "invitation": invitation})


@never_cache
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the verification email. The first use signs the person in (the link
    proves they read the address), unless their account needs a second factor; later
    uses only say the address is verified."""
    try:
        user, verified_now = services.email_verify(token=token)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("login")
    if request.user.is_authenticated:
        if request.user.pk == user.pk:
            messages.success(request, "Your email address is verified.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    if (
        verified_now
        and not user.needs_two_factors
        and not selectors.totp_device_confirmed(user=user)
    ):
        login(request, user, backend=MODEL_BACKEND)
        messages.success(
            request,
            "Your email address is verified. Welcome: start by linking the accounts you keep "
            "personal.",
        )
        return redirect("boundary:account-list")
    messages.success(request, "Your email address is verified. Log in to continue.")
    return redirect("login")


@login_required
@require_POST
def email_verification_resend(request: AuthenticatedHttpRequest) -> HttpResponse:
    if services.email_verification_send(user=request.user):
        messages.success(request, f"We sent a new link to {request.user.email}.")
    elif not request.user.email_verified:
        messages.info(request, "A link was sent less than a minute ago: check your email.")
    return redirect(_next_or(request, settings.LOGIN_REDIRECT_URL))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused for its CSRF token (expired, or posted from another site): Django's
    own page carries inline styles the CSP refuses. The reason stays out of the page."""
    return render(request, "403_csrf.html", status=403)


# --- Logging in: a password, then a code where the person has an authenticator ------------


def _next_or(request: HttpRequest, default: str) -> str:
    """Where to go after logging in: `next` if it is a path on this site, else `default`,
    as a URL (so a `next` such as "0" is a path, never a view name to look up)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


class LogoutView(auth_views.LogoutView):
    """Django's logout, then a word on the login page that it worked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if signed_in:
            messages.info(request, "You are logged out.")
        return response


@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_or(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    session_ended = request.session.pop(SESSION_ENDED, None)
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if selectors.totp_device_confirmed(user=user):
            request.session[LOGIN_PENDING] = {
                "user": user.pk,
                "backend": getattr(user, "backend", MODEL_BACKEND),
                "next": next_url,
                "at": timezone.now().timestamp(),
            }
            return redirect("login-code")
        login(request, user)
        return HttpResponseRedirect(next_url)
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": next_url, "session_ended": session_ended},
    )


def _login_pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    """Who is between the two steps: a fresh password step in this session, or someone
    signed in whose session was not verified by a device yet."""
    if isinstance(request.user, User):
        user = request.user
        if not session_verified(user) and selectors.totp_device_confirmed(user=user):
            return user, {"next": _next_or(request, settings.LOGIN_REDIRECT_URL)}
        return None, {}
    pending = request.session.get(LOGIN_PENDING) or {}
    if timezone.now().timestamp() - pending.get("at", 0) > LOGIN_PENDING_SECONDS:
        return None, {}
    return User.objects.filter(pk=pending.get("user") or 0, is_active=True).first(), pending


@never_cache
@sensitive_post_parameters("code")
def login_code(request: HttpRequest) -> HttpResponse:
    user, pending = _login_pending_user(request)
    if user is None:
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        messages.info(request, "Log in with your password first.")
        return redirect("login")
    form = CodeForm(
        request.POST or None,
        submit="Verify",
        help_text="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
    )
    if request.method == "POST" and form.is_valid():
        device = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            if not request.user.is_authenticated:
                login(request, user, backend=pending.get("backend", MODEL_BACKEND))
            django_otp.login(request, device)
            request.session.pop(LOGIN_PENDING, None)
            next_url = pending.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL)
            return HttpResponseRedirect(next_url)
        if services.second_factor_throttled(user=user):
            form.add_error("code", "Too many wrong codes. Wait a minute, then try the newest code.")
        else:
            form.add_error("code", "That code is not right. Try the newest code in your app.")
    return render(request, "registration/login_code.html", {"form": form})


# --- Two factors -----------------------------------------------------------------------------


@login_required
@require_safe
def two_factor(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "boundary/two_factor.html",
        {
            "device": selectors.totp_device_confirmed(user=request.user),
            "recovery_codes_left": selectors.recovery_codes_left(user=request.user),
        },
    )


def _require_verified_session(request: AuthenticatedHttpRequest) -> None:
    """Changing two factors that exist needs a session verified by one of them."""
    if selectors.totp_device_confirmed(user=request.user) and not session_verified(request.user):
        raise PermissionDenied


def _setup_device(request: AuthenticatedHttpRequest) -> TOTPDevice:
    """The unconfirmed authenticator this session is setting up, or a new one."""
    device = TOTPDevice.objects.filter(
        pk=request.session.get(SETUP_DEVICE), user=request.user, confirmed=False
    ).first()
    if device is None:
        device = services.totp_device_start(user=request.user)
        request.session[SETUP_DEVICE] = device.pk
    return device


@never_cache
@login_required
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator: the QR code and the secret in text, confirmed with a
    code. Confirming verifies this session and shows ten recovery codes, once."""
    _require_verified_session(request)
    device = _setup_device(request)
    form = CodeForm(
        request.POST or None,
        submit="Turn on two factors",
        help_text="The 6-digit code your app shows for Boundary.",
    )
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(device=device, token=form.cleaned_data["code"]):
            request.session.pop(SETUP_DEVICE, None)
            django_otp.login(request, device)
            codes = services.recovery_codes_generate(user=request.user)
            session_keep(request)
            messages.success(request, "Two factors are on.")
            return render(request, "boundary/recovery_codes.html", {"codes": codes})
        form.add_error(
            "code", "That code is not right. Check the time on your phone and try the newest code."
        )
    secret = base64.b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app", omitsize=False
    )
    return render(
        request,
        "boundary/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "required": request.user.needs_two_factors,
        },
    )


@never_cache
@login_required
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New recovery codes (POST), shown once; the earlier ones stop working."""
    _require_verified_session(request)
    if not selectors.totp_device_confirmed(user=request.user):
        return redirect("boundary:two-factor-setup")
    if request.method == "POST":
        codes = services.recovery_codes_generate(user=request.user)
        session_keep(request)
        return render(request, "boundary/recovery_codes.html", {"codes": codes})
    return redirect("boundary:two-factor")


@login_required
@require_POST
def two_factor_disable(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_verified_session(request)
    services.two_factors_disable(user=request.user)
    session_keep(request)
    messages.success(request, "Two factors are off: you log in with your password only.")
    return redirect("boundary:two-factor")


# --- People ----------------------------------------------------------------------------------


@login_required
def people_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    """HR and admins invite people by email; anyone else gets the same 404 as a page
    that does not exist."""
    if not services.invitable_roles(request.user):
        raise Http404
    form = InvitationForm(request.POST or None, by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("people-invite")
    return render(
        request,
        "boundary/people_invite.html",
        {"form": form, "invitations": selectors.invitations_pending()},
    )


@login_required
def people_manager(request: AuthenticatedHttpRequest) -> HttpResponse:
    """HR and admins set who manages whom; anyone else gets a 404."""
    if request.user.role not in (User.Role.HR, User.Role.ADMIN):
        raise Http404
    form = ManagerAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        employee, manager = form.cleaned_data["employee"], form.cleaned_data["manager"]
        try:
            services.user_manager_set(user=employee, manager=manager, by=request.user)
        except ValidationError as error:
            form.add_error("manager", error)
        else:
            if manager is None:
                messages.success(request, f"{employee.display_name} has no manager now.")
            else:
                messages.success(
                    request, f"{manager.display_name} now manages {employee.display_name}."
                )
            return redirect("people-manager")
    return render(request, "boundary/people_manager.html", {"form": form})


@login_required
@require_safe
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    accounts = selectors.social_accounts_in_use(owner=request.user)
    page = Paginator(accounts, ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "boundary/socialaccount_list.html",
        {
            "page_obj": page,
            "accounts": page.object_list,
            "archived_accounts": selectors.social_accounts_archived(owner=request.user),
        },
    )


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks: 200 when the database answers, 503 when not.
    Public and cheap: no session, no template."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
