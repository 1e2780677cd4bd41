from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("exports/", views.export_list, name="export-list"),
    path("exports/new/", views.export_create, name="export-create"),
    path("exports/<int:pk>/", views.export_detail, name="export-detail"),
    path("exports/<int:pk>/status/", views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("my-record/receipts/", views.receipt_list, name="receipt-list"),
    path("my-record/receipts/new/", views.receipt_issue, name="receipt-issue"),
    path("my-record/receipts/<int:pk>/", views.receipt_download, name="receipt-download"),
    path("my-record/receipts/address/", views.receipt_address, name="receipt-address"),
    path(
        "receipts/confirm/<str:token>/",
        views.receipt_address_confirm,
        name="receipt-address-confirm",
    ),
    path("verify/", views.verify, name="verify"),
    path("verify/checks/<str:token>/", views.verify_job, name="verify-job"),
    path("verify/checks/<str:token>/status/", views.verify_job_status, name="verify-job-status"),
    path("keys/", views.public_key, name="public-key"),
    path("keys/boundary-export-key.pem", views.public_key_pem, name="public-key-pem"),
]
