from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.notifications_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("inbox/<int:pk>/open/", views.notification_open, name="notification-open"),
]
