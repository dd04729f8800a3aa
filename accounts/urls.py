from django.urls import path

from . import two_factor_views, views

app_name = "accounts"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.notifications_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("inbox/<int:pk>/open/", views.notification_open, name="notification-open"),
    path("two-factor/", two_factor_views.enroll, name="two-factor"),
    path("two-factor/verify/", two_factor_views.verify, name="two-factor-verify"),
]
