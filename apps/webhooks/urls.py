"""/api/v1/webhooks/*."""

from django.urls import path

from apps.webhooks import views

urlpatterns = [
    path("webhooks", views.WebhooksView.as_view()),
    path("webhooks/<uuid:webhook_id>", views.WebhookDetailView.as_view()),
    path("webhooks/<uuid:webhook_id>/test", views.WebhookTestView.as_view()),
    path("webhooks/<uuid:webhook_id>/deliveries", views.WebhookDeliveriesView.as_view()),
]
