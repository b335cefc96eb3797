from django.urls import path

from apps.siteconfig import views

urlpatterns = [
    path("settings", views.SettingsView.as_view()),
    path("settings/<str:key>", views.SettingDetailView.as_view()),
]
