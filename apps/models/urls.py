"""/api/v1/models/*."""

from django.urls import path

from apps.models import views

urlpatterns = [
    path("models", views.ModelListView.as_view()),
    path("models/<str:model_id>", views.ModelDetailView.as_view()),
    path("models/<str:model_id>/import", views.ModelImportView.as_view()),
    path("models/<str:model_id>/unload", views.ModelUnloadView.as_view()),
]
