from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("account/webhooks/", views.page, name="page"),
    path("account/webhooks/add/", views.add, name="add"),
    path("account/webhooks/<int:pk>/rotate/", views.rotate, name="rotate"),
    path("account/webhooks/<int:pk>/status/", views.set_status, name="status"),
    path("account/webhooks/<int:pk>/delete/", views.delete, name="delete"),
]
