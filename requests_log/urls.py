from django.urls import path

from . import ack_views, closing_views, sharing_views, views

app_name = "requests_log"

urlpatterns = [
    path("", views.home, name="home"),
    path("my-record/", views.my_record, name="my-record"),
    path("me/close/", closing_views.account_close, name="account-close"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/correct/", views.request_correct, name="request-correct"),
    path("requests/<int:pk>/decide/", views.decision_create, name="decision-create"),
    path(
        "requests/<int:pk>/decisions/<int:decision_pk>/reply-sent/",
        views.reply_sent,
        name="reply-sent",
    ),
    path(
        "requests/<int:pk>/decisions/<int:decision_pk>/acknowledgement-link/",
        ack_views.acknowledgement_link_create,
        name="acknowledgement-link-create",
    ),
    path("ack/<str:token>/", ack_views.acknowledge, name="acknowledge"),
    path("requests/<int:pk>/follow-up/", views.follow_up_create, name="follow-up-create"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/evidence/", views.evidence_create, name="evidence-create"),
    path("requests/<int:pk>/share/", sharing_views.request_share, name="request-share"),
    path(
        "requests/<int:pk>/share/stop/",
        sharing_views.request_share_stop,
        name="request-share-stop",
    ),
    path("sharing/share-all/", sharing_views.share_all, name="share-all"),
    path("sharing/stop-all/", sharing_views.share_stop_all, name="share-stop-all"),
    path(
        "requests/<int:pk>/disclosure-proof/",
        views.disclosure_proof_create,
        name="disclosure-proof-create",
    ),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notification_read_all, name="notification-read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("my-data/", views.personal_data_download, name="personal-data"),
]
