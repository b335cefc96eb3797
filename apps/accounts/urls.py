"""/api/auth/*: sign-in, sessions, passwords, users."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("login", views.LoginView.as_view()),
    path("logout", views.LogoutView.as_view()),
    path("session", views.SessionView.as_view()),
    path("change-password", views.ChangePasswordView.as_view()),
    path("users", views.UsersView.as_view()),
    path("register", views.RegisterView.as_view()),
    path("users/<uuid:user_id>", views.UserDetailView.as_view()),
    path("users/<uuid:user_id>/reset-password", views.ResetPasswordView.as_view()),
]
