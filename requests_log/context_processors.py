from django.utils.functional import SimpleLazyObject


def notifications(request):
    """The bell's unread count, counted only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: user.notifications.filter(read_at__isnull=True).count()
        )
    }
