from django.urls import path

from apps.apikeys import views

urlpatterns = [
    path("api-keys", views.ApiKeysView.as_view()),
    path("api-keys/<uuid:key_id>", views.ApiKeyDetailView.as_view()),
]
