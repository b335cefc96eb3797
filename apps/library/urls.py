"""/api/v1/upload and /api/v1/files/*."""

from django.urls import path

from apps.library import views

urlpatterns = [
    path("upload", views.UploadView.as_view()),
    path("files", views.FileListView.as_view()),
    path("files/download", views.FilesArchiveView.as_view()),
    path("files/<uuid:file_id>", views.FileDetailView.as_view()),
    path("files/<uuid:file_id>/download", views.FileDownloadView.as_view()),
    path("files/<uuid:file_id>/thumbnail", views.FileThumbnailView.as_view()),
]
