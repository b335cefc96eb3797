from django.urls import path

from apps.teams import views

urlpatterns = [
    path("teams", views.TeamsView.as_view()),
    path("teams/<uuid:team_id>", views.TeamDetailView.as_view()),
]
