from django.urls import path

from apps.branding import views

urlpatterns = [path("branding/logo", views.LogoView.as_view())]
