from django.urls import path

from . import views

app_name = "mediation"
urlpatterns = [
    path("statistics/", views.statistics, name="statistics"),
]
